import Foundation

@testable import Formats

/// Small HDF5 images built byte by byte, for structures h5py never writes (loops, lies, superblock 1): a superblock
/// (version 0, 1 or 2), version 1 object headers holding whatever messages a test gives, global heap collections.
/// Addresses are file offsets (base 0). Headers are allocated first and filled later, so that two objects can
/// point at each other.
final class HDF5ImageBuilder {
    var bytes: [UInt8] = []
    /// Where the superblock stores the root group's object header address.
    private var rootField = 0
    private var eofField = 0

    init(superblock version: Int = 0) {
        bytes = HDF5File.signature + [UInt8(version)]
        if version < 2 {
            bytes += [0, 0, 0, 0, 8, 8, 0] + u16(4) + u16(16) + u32(0)
            if version == 1 { bytes += u16(32) + u16(0) }
            bytes += u64(0) + u64(UInt64.max)
            eofField = bytes.count
            bytes += u64(0) + u64(UInt64.max) + u64(0)
            rootField = bytes.count
            bytes += u64(0) + u32(0) + u32(0) + [UInt8](repeating: 0, count: 16)
        } else {
            bytes += [8, 8, 0] + u64(0) + u64(UInt64.max)
            eofField = bytes.count
            bytes += u64(0)
            rootField = bytes.count
            bytes += u64(0) + u32(0)
        }
    }

    func u16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    func u64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    func u64(_ v: Int) -> [UInt8] { u64(UInt64(bitPattern: Int64(v))) }

    func patch(_ at: Int, _ value: [UInt8]) { bytes.replaceSubrange(at..<(at + value.count), with: value) }

    /// Reserves `size` bytes (8-aligned) and returns their offset.
    func allocate(_ size: Int) -> Int {
        while bytes.count % 8 != 0 { bytes.append(0) }
        let at = bytes.count
        bytes += [UInt8](repeating: 0, count: size)
        return at
    }

    /// Writes a version 1 object header into `at` (from `allocate`) with `messages` (type, body).
    func fill(_ at: Int, _ messages: [(Int, [UInt8])]) {
        var chunk: [UInt8] = []
        for (type, body) in messages {
            let padded = body + [UInt8](repeating: 0, count: (8 - body.count % 8) % 8)
            chunk += u16(type) + u16(padded.count) + [0, 0, 0, 0] + padded
        }
        patch(at, [1, 0] + u16(messages.count) + u32(1) + u32(chunk.count) + u32(0) + chunk)
    }

    func header(_ messages: [(Int, [UInt8])]) -> Int {
        let at = allocate(16 + messages.reduce(0) { $0 + 8 + ($1.1.count + 7) / 8 * 8 })
        fill(at, messages)
        return at
    }

    func root(_ at: Int) { patch(rootField, u64(at)) }

    /// The image, its end-of-file address set.
    func image() -> [UInt8] {
        patch(eofField, u64(bytes.count))
        return bytes
    }

    // MARK: - Messages

    func link(_ name: String, to address: Int) -> (Int, [UInt8]) {
        (HDF5Message.link, [1, 0, UInt8(name.utf8.count)] + Array(name.utf8) + u64(address))
    }

    /// An empty link info message (a new-style group with its links in the header).
    var linkInfo: (Int, [UInt8]) { (HDF5Message.linkInfo, [0, 0] + u64(UInt64.max) + u64(UInt64.max)) }

    func continuation(_ address: Int, _ length: Int) -> (Int, [UInt8]) {
        (HDF5Message.continuation, u64(address) + u64(length))
    }

    /// A simple dataspace (version 1).
    func dataspace(_ dims: [UInt64]) -> [UInt8] { [1, UInt8(dims.count), 0, 0, 0, 0, 0, 0] + dims.flatMap { u64($0) } }

    let float32: [UInt8] = [0x11, 0x20, 0x1F, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0]

    func dataset(_ dims: [UInt64], data address: Int, size: Int) -> [(Int, [UInt8])] {
        [
            (HDF5Message.dataspace, dataspace(dims)), (HDF5Message.datatype, float32),
            (HDF5Message.layout, [3, 1] + u64(address) + u64(size)),
        ]
    }

    /// A scalar variable-length string attribute (version 3) whose value is global heap object `index` of the
    /// collection at `collection`, `length` bytes long.
    func vlenAttribute(_ name: String, collection: Int, index: Int, length: Int) -> (Int, [UInt8]) {
        let type: [UInt8] = [0x19, 0x01, 0, 0] + u32(16) + [0x13, 0, 0, 0] + u32(1)
        let space: [UInt8] = [2, 0, 0, 0]
        let n = Array(name.utf8) + [0]
        return (
            HDF5Message.attribute,
            [3, 0] + u16(n.count) + u16(type.count) + u16(space.count) + [0] + n + type + space + u32(length)
                + u64(collection) + u32(index)
        )
    }

    /// A global heap collection holding `objects` (index 1, 2, …).
    func collection(_ objects: [[UInt8]]) -> Int {
        var body: [UInt8] = []
        for (i, o) in objects.enumerated() {
            body += u16(i + 1) + u16(1) + u32(0) + u64(o.count) + o + [UInt8](repeating: 0, count: (8 - o.count % 8) % 8)
        }
        let at = allocate(16 + body.count)
        patch(at, Array("GCOL".utf8) + [1, 0, 0, 0] + u64(16 + body.count) + body)
        return at
    }
}
