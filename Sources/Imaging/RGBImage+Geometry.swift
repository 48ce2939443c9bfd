extension RGBImage {
    /// PIL's `image.resize((width, height), BILINEAR | BICUBIC)`, bit-exact (see `ResampleCoefficients`).
    public func resized(width: Int, height: Int, interpolation: Interpolation) -> RGBImage {
        precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
        if width == self.width && height == self.height { return self }
        return Resampler.resize(
            self, width: width, height: height, interpolation: interpolation, window: (0, 0, width, height))
    }

    /// The size torchvision's `Resize(S)` gives an image: the shorter side becomes S and the longer
    /// `int(S · long / short)` (truncated, computed in double as Python's true division is).
    public static func size(width: Int, height: Int, shorterSide s: Int) -> (width: Int, height: Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let newLong = Int(Double(s * long) / Double(short))
        return width <= height ? (s, newLong) : (newLong, s)
    }

    /// torchvision's `Resize(S)` on a PIL image: the shorter side resized to S, the aspect ratio kept.
    public func resized(shorterSide s: Int, interpolation: Interpolation) -> RGBImage {
        let target = RGBImage.size(width: width, height: height, shorterSide: s)
        return resized(width: target.width, height: target.height, interpolation: interpolation)
    }

    /// Where torchvision's `CenterCrop` starts along one axis of length `size`: `round((size − crop) / 2)` with
    /// Python's round-half-to-even; when the crop is larger, the image is first padded with
    /// `(crop − size) // 2` zeros before (and the rest after), so the origin is negative.
    public static func centerCropOrigin(size: Int, crop: Int) -> Int {
        if crop > size { return -((crop - size) / 2) }
        return Int((Double(size - crop) / 2).rounded(.toNearestOrEven))
    }

    /// The `width × height` pixels starting at (x, y); pixels outside the image are black (0), as torchvision's
    /// zero padding makes them.
    public func cropped(x: Int, y: Int, width cw: Int, height ch: Int) -> RGBImage {
        precondition(cw >= 0 && ch >= 0, "crop of \(cw)x\(ch)")
        var out = [UInt8](repeating: 0, count: cw * ch * 3)
        let x0 = max(x, 0)
        let x1 = min(x + cw, width)
        if x0 < x1 {
            for row in max(y, 0)..<max(min(y + ch, height), max(y, 0)) {
                let src = (row * width + x0) * 3
                let dst = ((row - y) * cw + (x0 - x)) * 3
                out.replaceSubrange(dst..<(dst + (x1 - x0) * 3), with: pixels[src..<(src + (x1 - x0) * 3)])
            }
        }
        return RGBImage(width: cw, height: ch, pixels: out)
    }

    /// torchvision's `CenterCrop((height, width))`, including its rounding and zero padding.
    public func centerCropped(width cw: Int, height ch: Int) -> RGBImage {
        cropped(
            x: RGBImage.centerCropOrigin(size: width, crop: cw), y: RGBImage.centerCropOrigin(size: height, crop: ch),
            width: cw, height: ch)
    }

    /// `resized(width:height:interpolation:)` followed by `cropped(x:y:width:height:)`, computing only the
    /// pixels the crop keeps (identical values: each output pixel depends only on its own filter taps).
    public func resized(
        width: Int, height: Int, interpolation: Interpolation,
        croppingTo crop: (x: Int, y: Int, width: Int, height: Int)
    ) -> RGBImage {
        precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
        let x0 = max(crop.x, 0)
        let y0 = max(crop.y, 0)
        let x1 = min(crop.x + crop.width, width)
        let y1 = min(crop.y + crop.height, height)
        guard x0 < x1, y0 < y1 else {
            return RGBImage(
                width: crop.width, height: crop.height, pixels: .init(repeating: 0, count: crop.width * crop.height * 3)
            )
        }
        let inside = Resampler.resize(
            self, width: width, height: height, interpolation: interpolation, window: (x0, y0, x1 - x0, y1 - y0))
        if x0 == crop.x && y0 == crop.y && x1 - x0 == crop.width && y1 - y0 == crop.height { return inside }
        return inside.cropped(x: crop.x - x0, y: crop.y - y0, width: crop.width, height: crop.height)
    }
}
