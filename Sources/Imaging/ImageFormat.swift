import Foundation

/// The image formats effnet decodes, recognised by their first bytes rather than the file name.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg
    case png

    /// The format whose signature `bytes` starts with: JPEG `FF D8 FF` (SOI followed by a marker),
    /// PNG `89 50 4E 47 0D 0A 1A 0A`.
    public static func detect(_ bytes: [UInt8]) -> ImageFormat? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }

    /// Names other image formats by their signatures, so that the error says "GIF" rather than "not an image".
    static func otherFormat(_ bytes: [UInt8]) -> String? {
        func starts(_ s: String) -> Bool { bytes.starts(with: Array(s.utf8)) }
        if starts("GIF87a") || starts("GIF89a") { return "GIF" }
        if starts("BM") && bytes.count >= 14 { return "BMP" }
        if starts("RIFF") && bytes.count >= 12 && Array(bytes[8..<12]) == Array("WEBP".utf8) { return "WebP" }
        if starts("II*\u{0}") || starts("MM\u{0}*") { return "TIFF" }
        if bytes.count >= 12 && Array(bytes[4..<8]) == Array("ftyp".utf8) {
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            return ["avif", "avis"].contains(brand)
                ? "AVIF" : ["heic", "heix", "mif1", "msf1"].contains(brand) ? "HEIF" : nil
        }
        if bytes.starts(with: [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20])
            || bytes.starts(with: [0xFF, 0x4F, 0xFF, 0x51])
        {
            return "JPEG 2000"
        }
        if bytes.starts(with: [0xFF, 0x0A]) { return "JPEG XL" }
        if starts("qoif") { return "QOI" }
        return nil
    }

    /// A short, printable rendering of the first bytes for "not an image" errors: quoted text when the bytes are
    /// printable ASCII, hex otherwise.
    static func describeStart(_ bytes: [UInt8]) -> String {
        let head = Array(bytes.prefix(8))
        if head.allSatisfy({ (0x20..<0x7F).contains($0) || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            let text = String(decoding: head, as: UTF8.self).replacingOccurrences(of: "\n", with: "\\n")
                .replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\t", with: "\\t")
            return "\"\(text)\"" + (bytes.count > 8 ? "…" : "")
        }
        return head.map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
            + (bytes.count > 8 ? " …" : "")
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
