import type * as tf from '@tensorflow/tfjs-core';
import { Module } from '../module.js';

/** A module with one tensor in and one tensor out, so it can sit in a Sequential. */
export abstract class Layer extends Module {
  abstract forward(x: tf.Tensor): tf.Tensor;
}
