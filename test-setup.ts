import { initBackend } from '@vitkit/core/node';

await initBackend({ quiet: true });
