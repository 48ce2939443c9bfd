/// One header message: its type and where its body is in the file.
struct HDF5Message {
    let type: Int
    let flags: UInt8
    let offset: Int
    let count: Int

    static let dataspace = 0x01
    static let linkInfo = 0x02
    static let datatype = 0x03
    static let layout = 0x08
    static let filterPipeline = 0x0B
    static let attribute = 0x0C
    static let link = 0x06
    static let continuation = 0x10
    static let symbolTable = 0x11
    static let attributeInfo = 0x15

    /// The message is stored elsewhere (a shared or committed message).
    var isShared: Bool { flags & 0x02 != 0 }
}

/// An object header (version 1, or version 2 with signature "OHDR"): its messages, gathered from the first chunk and
/// every continuation block. A continuation block that was already read (a loop) or more than `maxChunks` of them
/// make the header malformed.
struct HDF5ObjectHeader {
    let address: Int
    let messages: [HDF5Message]

    static let maxChunks = 4096

    init(file: HDF5File, address: Int) throws(WeightFileError) {
        self.address = address
        let what = "the object header at byte \(address)"
        var prefix = try file.cursor(what, at: address, upTo: 16)
        var messages: [HDF5Message] = []
        /// (offset, count) of chunks still to read.
        var pending: [(Int, Int)] = []
        var seen: Set<Int> = [address]
        var chunks = 0
        let first = try prefix.u8()
        if first == 1 {
            // Version 1: version, reserved, message count, reference count, chunk size, padding to 16 bytes.
            try prefix.skip(1)
            let expected = try prefix.u16()
            try prefix.skip(4)
            let size = try prefix.u32()
            try prefix.skip(4)
            pending.append((address + 16, size))
            while let (offset, count) = pending.popLast() {
                var c = try file.cursor("\(what): a message chunk at byte \(offset)", at: offset, count: count)
                while c.remaining >= 8, messages.count < expected {
                    let type = try c.u16()
                    let size = try c.u16()
                    let flags = try c.u8()
                    try c.skip(3)
                    try c.need(size)
                    let m = HDF5Message(type: type, flags: flags, offset: c.position, count: size)
                    try c.skip(size)
                    try Self.follow(m, file: file, what: what, seen: &seen, pending: &pending, chunks: &chunks)
                    messages.append(m)
                }
            }
        } else if first == 0x4F {
            prefix.position = address
            try prefix.expect(signature: "OHDR")
            let version = try prefix.u8()
            guard version == 2 else { throw prefix.malformed("version \(version) (1 and 2 are supported)") }
            let flags = try prefix.u8()
            var c = try file.cursor(what, at: address, upTo: 6 + 16 + 4 + 8)
            try c.skip(6)
            if flags & 0x20 != 0 { try c.skip(16) }  // access, modification, change, birth times
            if flags & 0x10 != 0 { try c.skip(4) }  // attribute storage phase change
            let size = try c.size(1 << Int(flags & 0x03), "chunk size")
            let tracksOrder = flags & 0x04 != 0
            pending.append((c.position, size))
            var isFirst = true
            while let (offset, count) = pending.popLast() {
                var chunk = try file.cursor("\(what): a message chunk at byte \(offset)", at: offset, count: count)
                if !isFirst {
                    // A continuation block: "OCHK", messages, checksum.
                    try chunk.expect(signature: "OCHK")
                    guard count >= 8 else { throw chunk.malformed("a continuation block of \(count) bytes") }
                    chunk = try file.cursor(
                        "\(what): a message chunk at byte \(offset)", at: offset + 4, count: count - 8)
                }
                isFirst = false
                let headerSize = tracksOrder ? 6 : 4
                while chunk.remaining >= headerSize {
                    let type = Int(try chunk.u8())
                    let size = try chunk.u16()
                    let flags = try chunk.u8()
                    if tracksOrder { try chunk.skip(2) }
                    try chunk.need(size)
                    let m = HDF5Message(type: type, flags: flags, offset: chunk.position, count: size)
                    try chunk.skip(size)
                    try Self.follow(m, file: file, what: what, seen: &seen, pending: &pending, chunks: &chunks)
                    messages.append(m)
                }
            }
        } else {
            throw prefix.malformed("not an object header (version byte \(first))")
        }
        self.messages = messages
    }

    /// Queues the block a continuation message points to.
    private static func follow(
        _ m: HDF5Message, file: HDF5File, what: String, seen: inout Set<Int>, pending: inout [(Int, Int)],
        chunks: inout Int
    ) throws(WeightFileError) {
        guard m.type == HDF5Message.continuation else { return }
        var c = try file.cursor("\(what): a continuation message", at: m.offset, count: m.count)
        guard let address = try c.address() else { throw c.malformed("an undefined continuation address") }
        let length = try c.length("continuation length")
        let at = try file.absolute(address, "\(what): a continuation block")
        guard seen.insert(at).inserted else {
            throw file.malformed("\(what): continuation block at byte \(at) is read twice (a loop)")
        }
        chunks += 1
        guard chunks <= maxChunks else { throw file.malformed("\(what): more than \(maxChunks) continuation blocks") }
        pending.insert((at, length), at: 0)
    }

    /// The messages of `type`.
    func messages(_ type: Int) -> [HDF5Message] { messages.filter { $0.type == type } }

    func first(_ type: Int) -> HDF5Message? { messages.first { $0.type == type } }
}
