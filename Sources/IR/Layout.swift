/// How the floats of a 4-D image tensor are ordered: the one definition behind a model's input layout (what
/// preprocessing writes, what `verify`'s random inputs look like) and the native runtime's storage of its values.
public enum Layout: String, Sendable, CaseIterable {
    /// [N, C, H, W] (PyTorch / ONNX models); for a value of any rank, C order exactly as ONNX describes it.
    case nchw
    /// Channels last, [N, H, W, C]: Keras models' input, and how the runtime stores a logical [N, C, H, W] value
    /// around its convolutions.
    case nhwc

    /// The layout of a model's image input `dims`: channels last when the last of four dims is 3 and the second
    /// is not (Keras' [N, H, W, 3]), else channels first; nil unless the input has rank 4.
    public init?(imageInput dims: Shape) {
        guard dims.count == 4 else { return nil }
        self = dims[3] == .known(3) && dims[1] != .known(3) ? .nhwc : .nchw
    }

    /// `init(imageInput:)` for a concrete shape.
    public init?(imageInput shape: [Int]) { self.init(imageInput: Shape(shape)) }

    /// The height and width axes of an image tensor in this layout.
    public var spatialAxes: [Int] { self == .nhwc ? [1, 2] : [2, 3] }
}
