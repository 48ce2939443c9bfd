/// The output-size arithmetic of a convolution window along one spatial axis, as ONNX `Conv` defines it: the one
/// formula behind the IR's `ConvGeometry` (which checks the node's attributes and resolves `auto_pad`) and the
/// kernels' `NHWCConvGeometry` (which stores the sizes it gives).
///
/// out = ⌊(in + pad_begin + pad_end − ((k − 1)·d + 1)) / s⌋ + 1; `SAME_UPPER`/`SAME_LOWER` give ⌈in / s⌉ with the
/// total pad max(0, (out − 1)·s + (k − 1)·d + 1 − in) split so that the extra pixel goes at the end (UPPER) or the
/// beginning (LOWER). Every step is checked: attribute values come from files, and pads of 2^63 − 1 must be an
/// error, not a wrapped-around size.
public enum ConvArithmetic {
    public enum Failure: Error, Equatable {
        /// A step overflows 64-bit arithmetic.
        case overflow
        /// The dilated kernel is larger than the padded input (`padded` pixels).
        case kernelLargerThanInput(padded: Int)
    }

    /// The output size for explicit pads.
    public static func outputSize(
        input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int
    ) throws(Failure) -> Int {
        let effective = try add(try multiply(kernel - 1, dilation), 1)
        let padded = try add(try add(input, padBegin), padEnd)
        let span = padded - effective
        guard span >= 0 else { throw .kernelLargerThanInput(padded: padded) }
        return span / stride + 1
    }

    /// The output size and the pads of `auto_pad` `SAME_UPPER` (`upper`) or `SAME_LOWER`.
    public static func same(
        input: Int, kernel: Int, stride: Int, dilation: Int, upper: Bool
    ) throws(Failure) -> (size: Int, padBegin: Int, padEnd: Int) {
        let effective = try add(try multiply(kernel - 1, dilation), 1)
        let out = try add(input, stride - 1) / stride
        let total = max(0, try add(try multiply(out - 1, stride), effective) - input)
        let small = total / 2
        return upper ? (out, small, total - small) : (out, total - small, small)
    }

    private static func add(_ a: Int, _ b: Int) throws(Failure) -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        if o { throw .overflow }
        return r
    }

    private static func multiply(_ a: Int, _ b: Int) throws(Failure) -> Int {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        if o { throw .overflow }
        return r
    }
}
