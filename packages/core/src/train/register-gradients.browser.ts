// tfjs-core's gradient functions, registered for bundled (browser) builds; see register-gradients.ts.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
