/// IEEE 754 binary16 and bfloat16 conversions done on bits, so they behave the same on every platform.
///
/// Float → half rounds to nearest, ties to even, as numpy's `astype(np.float16)` does; NaN stays NaN and
/// overflow becomes ±infinity. Float → bfloat16 also rounds to nearest even (PyTorch's rule).
public enum HalfBits {
    public static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1f)
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal half: value = mantissa · 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 31 {
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    public static func half(fromFloat f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xff)
        var mantissa = bits & 0x7f_ffff
        if exponent == 0xff {
            return sign | 0x7c00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0)
        }
        var e = exponent - 127 + 15
        if e >= 31 { return sign | 0x7c00 }
        if e <= 0 {
            if e < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - e)
            var half = mantissa >> shift
            let remainder = mantissa & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && (half & 1) != 0) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(e) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1fff
        if remainder > 0x1000 || (remainder == 0x1000 && (half & 1) != 0) { half += 1 }
        e = Int(half >> 10)
        if e >= 31 { return sign | 0x7c00 }
        return sign | UInt16(half)
    }

    public static func float(fromBFloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    public static func bfloat16(fromFloat f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounding = UInt32(0x7fff) + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }
}
