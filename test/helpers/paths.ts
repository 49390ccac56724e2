/** Where things are, relative to the compiled test file (works for dist/ and for dist-<name>/ builds). */
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

/** dist/ (or dist-x/): this file is <distRoot>/test/helpers/paths.js */
export const DIST_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** the repository root */
export const REPO_ROOT = path.resolve(DIST_ROOT, '..');
/** the built CLI */
export const CLI = path.join(DIST_ROOT, 'src', 'cli', 'main.js');
/** test sources (for fixtures kept beside the tests: golden files, configs) */
export const TEST_SRC = path.join(REPO_ROOT, 'test');

/**
 * init's phases after wait-control-plane, which talk to the API server: a test that runs init without one (files
 * only, under --root) skips them with wait-control-plane, as a kubeadm user would.
 */
export const AFTER_WAIT = 'upload-config,upload-certs,mark-control-plane,bootstrap-token,kubelet-finalize,addon,show-join-command';
