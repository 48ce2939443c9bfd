/// `Activation` and `ConvArithmetic` live in OpCore, the module below both the IR and the kernels, so that the
/// fused ops' activations and the convolution output size have one definition; every module that imports the IR
/// sees them.
@_exported import OpCore
