import { resolve } from 'node:path';

/** The repository's root folder: the local platform's caches, state and logs live under it. */
export const REPO_ROOT = resolve(__dirname, '..');
