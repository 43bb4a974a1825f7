/** Stops what global-setup.ts started. */
export { globalTeardown as default } from './global-setup';
