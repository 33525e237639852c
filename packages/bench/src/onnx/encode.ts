// The protobuf encoding of core's OnnxModel, through onnx-proto (ONNX's own
// onnx.proto compiled by protobufjs).
import onnxProto from 'onnx-proto';
import type { OnnxAttribute, OnnxInitializer, OnnxModel, OnnxValueInfo } from '@vitkit/core';

const { onnx } = onnxProto;

/** IR version 8: what opsets 17 to 21 need and onnx-proto 8's schema describes. */
const IR_VERSION = 8;

function attribute(name: string, a: OnnxAttribute): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: a.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function tensor(t: OnnxInitializer): onnxProto.onnx.ITensorProto {
  const float = t.data instanceof Float32Array;
  return {
    name: t.name,
    dims: t.dims,
    dataType: float ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
    // Raw little-endian bytes: the host order of every platform onnxruntime-node ships for.
    rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  };
}

function valueInfo(v: OnnxValueInfo): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** The .onnx file's bytes. */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'vitkit',
    opsetImport: [{ domain: '', version: model.opset }],
    metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: model.graphName,
      node: model.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes).map(([k, a]) => attribute(k, a)),
      })),
      initializer: model.initializers.map(tensor),
      input: model.inputs.map(valueInfo),
      output: model.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}
