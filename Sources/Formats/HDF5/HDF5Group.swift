#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Group members: old-style groups (a symbol table message: a version 1 B-tree of symbol table nodes whose names
/// are in a local heap) and new-style compact groups (link messages in the object header). Dense link storage
/// (a fractal heap indexed by a version 2 B-tree, which HDF5 uses past 8 links with `libver='latest'`) is refused.
extension HDF5File {
    /// The hard links of the group whose header is `header`, by name (soft and external links are reported as
    /// unsupported when looked up).
    func links(of header: HDF5ObjectHeader, path: String) throws(WeightFileError) -> [String: HDF5Link] {
        if let cached = linkCache[header.address] { return cached }
        let links = try readLinks(of: header, path: path)
        linkCache[header.address] = links
        return links
    }

    private func readLinks(of header: HDF5ObjectHeader, path: String) throws(WeightFileError) -> [String: HDF5Link] {
        var links: [String: HDF5Link] = [:]
        for m in header.messages(HDF5Message.link) {
            var c = try cursor("'\(path)': a link message", at: m.offset, count: m.count)
            let link = try HDF5Link(&c, file: self)
            links[link.name] = link
        }
        for m in header.messages(HDF5Message.linkInfo) {
            var c = try cursor("'\(path)': the link info message", at: m.offset, count: m.count)
            try c.skip(1)
            let flags = try c.u8()
            if flags & 0x01 != 0 { try c.skip(8) }
            if try c.address() != nil {
                throw .unsupported(
                    file: name,
                    detail: "'\(path)': links stored in a fractal heap (dense link storage) are not supported")
            }
        }
        if let m = header.first(HDF5Message.symbolTable) {
            var c = try cursor("'\(path)': the symbol table message", at: m.offset, count: m.count)
            guard let tree = try c.address(), let heap = try c.address() else {
                throw c.malformed("an undefined B-tree or local heap address")
            }
            let names = try localHeap(at: absolute(heap, "'\(path)': the local heap"), path: path)
            var seen: Set<Int> = []
            try symbolTable(
                node: absolute(tree, "'\(path)': the group B-tree"), level: nil, heap: names, path: path, seen: &seen,
                into: &links)
        }
        return links
    }

    /// The data segment of the local heap at `at` ("HEAP", version 0, segment size, free list, segment address).
    private func localHeap(at: Int, path: String) throws(WeightFileError) -> HDF5Cursor {
        var c = try cursor("'\(path)': the local heap at byte \(at)", at: at, count: 8 + 2 * lengthSize + offsetSize)
        try c.expect(signature: "HEAP")
        let version = try c.u8()
        guard version == 0 else { throw c.malformed("version \(version) (0 is supported)") }
        try c.skip(3)
        let size = try c.length("data segment size")
        _ = try c.length("free list offset")
        guard let address = try c.address() else { throw c.malformed("an undefined data segment address") }
        let segment = try absolute(address, "'\(path)': the local heap's data segment")
        return try cursor("'\(path)': the local heap's data segment at byte \(segment)", at: segment, count: size)
    }

    /// A null-terminated name at `offset` in a local heap's data segment.
    private func heapName(_ heap: HDF5Cursor, offset: Int) throws(WeightFileError) -> String {
        guard offset >= 0, offset < heap.end - heap.start else {
            throw heap.malformed("a name at offset \(offset) is outside the heap's \(heap.end - heap.start) bytes")
        }
        let tail = UnsafeRawBufferPointer(rebasing: heap.bytes[(heap.start + offset)..<heap.end])
        guard let start = tail.baseAddress, memchr(start, 0, tail.count) != nil else { throw heap.malformed("a name at offset \(offset) has no end") }
        return HDF5File.text(tail)
    }

    static let maxTreeDepth = 64

    /// Walks a group B-tree node ("TREE", type 0): its children are symbol table nodes (level 0) or lower nodes.
    private func symbolTable(
        node at: Int, level expected: Int?, heap: HDF5Cursor, path: String, seen: inout Set<Int>,
        into links: inout [String: HDF5Link]
    ) throws(WeightFileError) {
        guard seen.insert(at).inserted else {
            throw malformed("'\(path)': the group B-tree node at byte \(at) is reached twice (a loop)")
        }
        var head = try cursor("'\(path)': the group B-tree node at byte \(at)", at: at, count: 8 + 2 * offsetSize)
        try head.expect(signature: "TREE")
        let type = try head.u8()
        guard type == 0 else { throw head.malformed("node type \(type) in a group's B-tree (0 expected)") }
        let level = Int(try head.u8())
        guard level < Self.maxTreeDepth, expected == nil || expected == level else {
            throw head.malformed("level \(level) (the tree is inconsistent)")
        }
        let entries = try head.u16()
        // Keys (lengths) and children (addresses) alternate: key 0, child 0, …, child n-1, key n.
        let (size, overflow) = entries.multipliedReportingOverflow(by: lengthSize + offsetSize)
        guard !overflow else { throw head.malformed("\(entries) entries") }
        var c = try cursor(head.what, at: at + 8 + 2 * offsetSize, count: size + lengthSize)
        for _ in 0..<entries {
            _ = try c.length("key")
            guard let child = try c.address() else { throw c.malformed("an undefined child address") }
            let childAt = try absolute(child, c.what)
            if level == 0 {
                try symbolNode(at: childAt, heap: heap, path: path, seen: &seen, into: &links)
            } else {
                try symbolTable(node: childAt, level: level - 1, heap: heap, path: path, seen: &seen, into: &links)
            }
        }
    }

    /// A symbol table node ("SNOD", version 1, symbol count, entries of name offset, object header address,
    /// cache type, reserved and 16 bytes of scratch pad).
    private func symbolNode(
        at: Int, heap: HDF5Cursor, path: String, seen: inout Set<Int>, into links: inout [String: HDF5Link]
    ) throws(WeightFileError) {
        guard seen.insert(at).inserted else {
            throw malformed("'\(path)': the symbol table node at byte \(at) is reached twice (a loop)")
        }
        var head = try cursor("'\(path)': the symbol table node at byte \(at)", at: at, count: 8)
        try head.expect(signature: "SNOD")
        let version = try head.u8()
        guard version == 1 else { throw head.malformed("version \(version) (1 is supported)") }
        try head.skip(1)
        let count = try head.u16()
        let entrySize = 2 * offsetSize + 24
        var c = try cursor(head.what, at: at + 8, count: count * entrySize)
        for _ in 0..<count {
            let nameOffset = try c.size(offsetSize, "link name offset")
            guard let address = try c.address() else { throw c.malformed("an undefined object header address") }
            try c.skip(24)
            let name = try heapName(heap, offset: nameOffset)
            links[name] = HDF5Link(name: name, target: .hard(try absolute(address, "'\(path)/\(name)'")))
        }
    }
}

/// A link in a group: its name and a hard link's object header (file offset), or a soft or external link.
struct HDF5Link {
    enum Target {
        case hard(Int)
        case soft(String)
        case external
    }

    let name: String
    let target: Target

    init(name: String, target: Target) {
        self.name = name
        self.target = target
    }

    /// A link message (version 1): flags, optional link type, creation order and name encoding, the name's length
    /// (1, 2, 4 or 8 bytes), the name, then a hard link's address or a soft link's path.
    init(_ c: inout HDF5Cursor, file: HDF5File) throws(WeightFileError) {
        let version = try c.u8()
        guard version == 1 else { throw c.malformed("link message version \(version) (1 is supported)") }
        let flags = try c.u8()
        let type = flags & 0x08 != 0 ? try c.u8() : 0
        if flags & 0x04 != 0 { try c.skip(8) }
        if flags & 0x10 != 0 { try c.skip(1) }
        let length = try c.size(1 << Int(flags & 0x03), "link name length")
        name = String(decoding: try c.bytes(length), as: UTF8.self)
        switch type {
        case 0:
            guard let address = try c.address() else { throw c.malformed("link '\(name)' has an undefined address") }
            target = .hard(try file.absolute(address, "link '\(name)'"))
        case 1:
            let n = try c.u16()
            target = .soft(String(decoding: try c.bytes(n), as: UTF8.self))
        default:
            target = .external
        }
    }
}
