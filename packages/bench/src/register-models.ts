// Importing the model packages registers their models and reference adapters.
import '@vitkit/vit';
import '@vitkit/hybrid-stem';
import '@vitkit/cswin';
import '@vitkit/crossvit';
