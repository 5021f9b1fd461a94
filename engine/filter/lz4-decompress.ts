import { Filter } from './filter.js';
import { Lz4FrameDecoder } from './lz4-frame-decoder.js';

/** LZ4 frame decompression with our streaming decoder (see lz4-frame-decoder.ts). */
export class Lz4DecompressFilter extends Filter {
  private readonly decoder: Lz4FrameDecoder;
  private readonly output = (data: Buffer): void => {
    this.push(data);
  };

  /** @param name the file being read, for error messages */
  constructor(name?: string) {
    super();
    this.decoder = new Lz4FrameDecoder(name);
  }

  protected process(chunk: Buffer): void {
    this.decoder.decode(chunk, this.output);
  }

  protected override finish(): void {
    this.decoder.finish();
  }
}
