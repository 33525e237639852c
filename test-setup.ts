import { initBackend } from '@vitkit/node';

await initBackend({ quiet: true });
