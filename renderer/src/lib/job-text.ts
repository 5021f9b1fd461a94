import type { Job } from '../../../engine/service/api.js';
import { backupTypeName } from './format.js';

/** "incremental backup", "check", "expire (dry run)": what a job is, in words. */
export function jobTitle(job: Pick<Job, 'request'>): string {
  const request = job.request;
  switch (request.kind) {
    case 'backup':
      return `${backupTypeName(request.type)} backup`;
    case 'expire':
      return request.dryRun ? 'expire (dry run)' : 'expire';
    default:
      return request.kind;
  }
}
