import Foundation
import IR
import Imaging

#if canImport(Glibc)
    import Glibc
#endif

/// The images `run` classifies: files as named, folders walked recursively (sorted, images recognised by their
/// content, other files skipped), and the lines of `--files-from` (a file, or `-` for stdin), then `--shard K/N`.
package enum RunInputs {
    package struct InputError: Error, CustomStringConvertible {
        package var description: String
    }

    /// Largest image file read (a 100 MP JPEG is well under this).
    static let maxFileBytes = 1 << 30

    package static func expand(_ arguments: [String], filesFrom: String?, shard: (index: Int, count: Int)?) throws -> [String] {
        var named = arguments
        if let filesFrom {
            let text: String
            if filesFrom == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let data = FileManager.default.contents(atPath: filesFrom) else {
                    throw InputError(description: "\(filesFrom): cannot read the --files-from list")
                }
                text = String(decoding: data, as: UTF8.self)
            }
            named += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        var paths = [String]()
        for path in named {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                paths += imagesInFolder(path)
            } else {
                paths.append(path)  // reported later, with its reason, if it is not a readable image
            }
        }
        guard let shard else { return paths }
        return paths.enumerated().filter { $0.offset % shard.count == shard.index }.map(\.element)
    }

    /// Every JPEG or PNG under `folder` (recognised by its first bytes), sorted by path.
    static func imagesInFolder(_ folder: String) -> [String] {
        let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var found = [String]()
        while let relative = walker.nextObject() as? String {
            let path = base + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            if ImageFormat.detect(head(path)) != nil { found.append(path) }
        }
        return found.sorted()
    }

    /// The first 8 bytes of a regular file (none for anything else: a FIFO is never waited on).
    static func head(_ path: String) -> [UInt8] {
        guard let (fd, _) = try? RegularFile.open(path) else { return [] }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 8)
        let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, 8) }
        return Array(bytes.prefix(max(0, n)))
    }

    /// Reads an image file whole: a regular file only, refused when larger than `maxFileBytes` before allocating.
    package static func read(_ path: String) throws -> [UInt8] {
        do {
            return try RegularFile.readAll(path, limit: maxFileBytes)
        } catch {
            throw ImageError.unreadable(file: path, reason: error.reason)
        }
    }

    /// Width and height from a PNG's IHDR or a JPEG's frame header, read before any pixel memory is allocated;
    /// nil when the header is not found (the decoder then reports the problem).
    static func dimensions(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        func be16(_ i: Int) -> Int { Int(bytes[i]) << 8 | Int(bytes[i + 1]) }
        func be32(_ i: Int) -> Int { be16(i) << 16 | be16(i + 2) }
        switch ImageFormat.detect(bytes) {
        case .png:
            guard bytes.count >= 24 else { return nil }
            return (be32(16), be32(20))
        case .jpeg:
            var i = 2
            while i + 3 < bytes.count {
                guard bytes[i] == 0xFF else { return nil }
                let marker = bytes[i + 1]
                if marker == 0xFF {
                    i += 1
                    continue
                }
                if marker == 0x01 || (0xD0...0xD9).contains(marker) {
                    i += 2
                    continue
                }
                let length = be16(i + 2)
                if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                    guard i + 9 <= bytes.count else { return nil }
                    return (be16(i + 7), be16(i + 5))
                }
                i += 2 + length
            }
            return nil
        case nil: return nil
        }
    }
}
