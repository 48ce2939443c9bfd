/// The resampling filters of PIL's `Image.resize` that image-classification pipelines use.
///
/// Both are PIL's *antialiased* separable convolutions: when shrinking by a factor f the filter's support is
/// stretched by f, so every source pixel contributes (unlike OpenCV's or PyTorch's non-antialiased kernels).
public enum Interpolation: String, Sendable, CaseIterable {
    /// Triangle filter, support 1: w(x) = 1 − |x| (PIL `BILINEAR`, torchvision's default).
    case bilinear
    /// Keys cubic convolution with a = −0.5, support 2 (PIL `BICUBIC`, timm's default).
    case bicubic

    /// Support radius in output-pixel units before scaling.
    var support: Double {
        switch self {
        case .bilinear: 1
        case .bicubic: 2
        }
    }

    /// The filter, term for term as PIL's `bilinear_filter` / `bicubic_filter` evaluate it (same operation order,
    /// so the double results — and the fixed-point coefficients rounded from them — are bit-identical).
    func weight(_ xIn: Double) -> Double {
        let x = xIn < 0 ? -xIn : xIn
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}
