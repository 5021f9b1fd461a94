// Tiny LZ4 frames written by the lz4 CLI, kept as hex so unit tests need no binary. The data they
// hold is rebuilt by periodic() and noise() below.

/** n bytes with period 251: compresses to almost nothing, and linked blocks refer back across blocks. */
export function periodic(n: number): Buffer {
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = ((i % 251) * 13) & 0xff;
  return data;
}

/** n bytes of a linear congruential generator: incompressible, deterministic. */
export function noise(n: number, seed = 1): Buffer {
  const data = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}

/** pgBackRest 2.45's lz4 file for empty content (repo-format.md). */
export const pgbackrestEmptyHex = '04224d1844405e00000000055dcc02';

/** periodic(150000) as pgBackRest writes lz4: FLG 0x44 (linked blocks, content checksum), BD 0x40 (64 KiB blocks) (`lz4 -1 -B4 -BD`, lz4 1.9.4). */
export const linkedFrameHex =
  '04224d1844405e05020000ffec000d1a2734414e5b6875828f9ca9b6c3d0ddeaf704111e2b3845525f6c798693a0adbac7d4e1eefb0815222f3c4956' +
  '63707d8a97a4b1becbd8e5f2ff0c192633404d5a6774818e9ba8b5c2cfdce9f603101d2a3744515e6b7885929facb9c6d3e0edfa0714212e3b485562' +
  '6f7c8996a3b0bdcad7e4f1fe0b1825323f4c596673808d9aa7b4c1cedbe8f5020f1c293643505d6a7784919eabb8c5d2dfecf90613202d3a4754616e' +
  '7b8895a2afbcc9d6e3f0fd0a1724313e4b5865727f8c99a6b3c0cddae7f4010e1b2835424f5c697683909daab7c4d1deebf805121f2c394653606d7a' +
  '8794a1aebbc8d5e2effc091623303d4a5764717e8b98a5b2fb00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec5004111e2b380a0100000fe7ffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffe850495663707d4f010000ffec8a97a4b1becbd8e5f2ff0c192633404d5a6774818e9ba8b5c2cfdce9f603101d2a374451' +
  '5e6b7885929facb9c6d3e0edfa0714212e3b4855626f7c8996a3b0bdcad7e4f1fe0b1825323f4c596673808d9aa7b4c1cedbe8f5020f1c293643505d' +
  '6a7784919eabb8c5d2dfecf90613202d3a4754616e7b8895a2afbcc9d6e3f0fd0a1724313e4b5865727f8c99a6b3c0cddae7f4010e1b2835424f5c69' +
  '7683909daab7c4d1deebf805121f2c394653606d7a8794a1aebbc8d5e2effc091623303d4a5764717e8b98a5b2000d1a2734414e5b6875828f9ca9b6' +
  'c3d0ddeaf704111e2b3845525f6c798693a0adbac7d4e1eefb0815222f3c495663707dfb00ffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff265084919eabb8000000' +
  '008be27822';

/** periodic(150000) with independent blocks, block checksums and the content size (`lz4 -B4 -BI -BX --content-size`, lz4 1.9.4). */
export const checkedFrameHex =
  '04224d187c40f0490200000000000f05020000ffec000d1a2734414e5b6875828f9ca9b6c3d0ddeaf704111e2b3845525f6c798693a0adbac7d4e1ee' +
  'fb0815222f3c495663707d8a97a4b1becbd8e5f2ff0c192633404d5a6774818e9ba8b5c2cfdce9f603101d2a3744515e6b7885929facb9c6d3e0edfa' +
  '0714212e3b4855626f7c8996a3b0bdcad7e4f1fe0b1825323f4c596673808d9aa7b4c1cedbe8f5020f1c293643505d6a7784919eabb8c5d2dfecf906' +
  '13202d3a4754616e7b8895a2afbcc9d6e3f0fd0a1724313e4b5865727f8c99a6b3c0cddae7f4010e1b2835424f5c697683909daab7c4d1deebf80512' +
  '1f2c394653606d7a8794a1aebbc8d5e2effc091623303d4a5764717e8b98a5b2fb00ffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec5004111e2b38f01763e0' +
  '05020000ffec45525f6c798693a0adbac7d4e1eefb0815222f3c495663707d8a97a4b1becbd8e5f2ff0c192633404d5a6774818e9ba8b5c2cfdce9f6' +
  '03101d2a3744515e6b7885929facb9c6d3e0edfa0714212e3b4855626f7c8996a3b0bdcad7e4f1fe0b1825323f4c596673808d9aa7b4c1cedbe8f502' +
  '0f1c293643505d6a7784919eabb8c5d2dfecf90613202d3a4754616e7b8895a2afbcc9d6e3f0fd0a1724313e4b5865727f8c99a6b3c0cddae7f4010e' +
  '1b2835424f5c697683909daab7c4d1deebf805121f2c394653606d7a8794a1aebbc8d5e2effc091623303d4a5764717e8b98a5b2000d1a2734414e5b' +
  '6875828f9ca9b6c3d0ddeaf704111e2b38fb00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec50495663707d3eb82e954f010000ffec8a97a4b1becbd8e5f2' +
  'ff0c192633404d5a6774818e9ba8b5c2cfdce9f603101d2a3744515e6b7885929facb9c6d3e0edfa0714212e3b4855626f7c8996a3b0bdcad7e4f1fe' +
  '0b1825323f4c596673808d9aa7b4c1cedbe8f5020f1c293643505d6a7784919eabb8c5d2dfecf90613202d3a4754616e7b8895a2afbcc9d6e3f0fd0a' +
  '1724313e4b5865727f8c99a6b3c0cddae7f4010e1b2835424f5c697683909daab7c4d1deebf805121f2c394653606d7a8794a1aebbc8d5e2effc0916' +
  '23303d4a5764717e8b98a5b2000d1a2734414e5b6875828f9ca9b6c3d0ddeaf704111e2b3845525f6c798693a0adbac7d4e1eefb0815222f3c495663' +
  '707dfb00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' +
  'ffffffffffffffffffffffffffffffffff265084919eabb8bd5b9228000000008be27822';

/** noise(300): incompressible, so one stored (uncompressed) block (`lz4 -B4 -BD`, lz4 1.9.4). */
export const storedFrameHex =
  '04224d186440a72c010080419627c4f995d99cbf0f0a3123af7dc4e2d2e2e3e99350282c7542b34de4f7efee56e1ca31ad9969b53b7d101b7adeb4e3' +
  '617a8328e09f4b85fa28873875498f4820bf1e3d33ef36ad300514c2590cb3629fab1da6a6f184d33356ddf81deb7be3b756e7142311eee01a11a5e6' +
  '1cc8db99fe2037606ef2fdb2b7103a1efed3cd1ebae58a3c139f78ce7e3de65fb0bdc38ccc2c92e35bb9da0c7bc6de4a51e41826a457a5c835a7b848' +
  '3e4db51020847d0e30d22c462dc83c14ce16c7256fea6cf2cc45155358a18d689836adeb91a196bd30c0402d430f424d5dc7ac66cba2554664f1f108' +
  'e674d295261524eb44841a02ad4f42c593e9048330ce02d0f5afddb27d4c8e9ce66f5e81de352e1a97898e146485e5ccb31d97ceaa4dfb3097a68692' +
  '01f17a50fa50052c120d9900000000ece3f5c4';
