/** pgkeep's version (kept equal to package.json's by a unit test). */
export const PGKEEP_VERSION = '0.1.0';

/**
 * The pgBackRest version pgkeep writes into repository files (`backrest-version`): the format is
 * pgBackRest 2.45's, and writing its version keeps pgkeep's info files byte-identical to the ones
 * pgbackrest 2.45 writes for the same content.
 */
export const REPO_COMPAT_VERSION = '2.45';

/** Repository format number; still 5 in pgBackRest 2.60. */
export const REPO_FORMAT = 5;
