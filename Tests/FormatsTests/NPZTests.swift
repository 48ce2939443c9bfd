import Foundation
import IR
import Testing

@testable import Formats

/// Arrays covering every dtype and the awkward shapes, named like real checkpoints.
func sampleArrays() -> [NamedTensor] {
    var arrays: [NamedTensor] = []
    for (i, dtype) in NPYTests.allDTypes.enumerated() {
        let shape = [[2, 3], [4], [], [0, 3], [1, 2, 2, 3]][i % 5]
        let n = shape.reduce(1, *)
        let t = Tensor(dtype: dtype, shape: shape, values: (0..<n).map { Double(($0 * 7919 + i) % 23) - 11.5 })
        arrays.append(NamedTensor(name: "blocks.\(i).conv.weight", tensor: t))
    }
    arrays.append(
        NamedTensor(
            name: "block2a_expand_conv/kernel",
            tensor: Tensor(shape: [1, 1, 3, 4], floats: (0..<12).map { Float($0) / 3 })))
    arrays.append(NamedTensor(name: "bn1.num_batches_tracked", tensor: .scalar(Int64(1234))))
    arrays.append(NamedTensor(name: "größe", tensor: Tensor(shape: [2], int32s: [-1, 1])))
    return arrays
}

/// Offsets of the central directory entries of a (non-ZIP64-end) archive, for patching fields in tests.
func centralEntryOffsets(_ bytes: [UInt8]) -> [Int] {
    bytes.withUnsafeBytes { raw in
        var end = raw.count - 22
        while raw.u32(end) != Zip.endSignature { end -= 1 }
        var p = Int(raw.u32(end + 16))
        var offsets: [Int] = []
        for _ in 0..<Int(raw.u16(end + 10)) {
            offsets.append(p)
            p += 46 + Int(raw.u16(p + 28)) + Int(raw.u16(p + 30)) + Int(raw.u16(p + 32))
        }
        return offsets
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("effnet-npz-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct NPZTests {
    @Test(arguments: [false, true], [UInt64(0), 100, ZipWriter<ZipMemorySink>.defaultZip64Threshold])
    func encodeReadRoundTrips(compressed: Bool, zip64Threshold: UInt64) throws {
        let arrays = sampleArrays()
        let bytes = try NPZ.encode(arrays, compressed: compressed, zip64Threshold: zip64Threshold)
        #expect(try NPZ.read(bytes: bytes) == arrays)
        #expect(try NPZ.read(bytes: NPZ.encode([], compressed: compressed, zip64Threshold: zip64Threshold)) == [])
        let hasZip64End = bytes.indices.dropLast(3).contains { bytes[$0..<$0 + 4] == [0x50, 0x4b, 0x06, 0x06] }
        #expect(hasZip64End == (zip64Threshold < 1000))
    }

    @Test func writeGoesThroughTheFileAndReadsBack() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ckpt.npz").path
        for compressed in [false, true] {
            try NPZ.write(sampleArrays(), to: path, compressed: compressed)
            #expect(try NPZ.read(contentsOf: path) == sampleArrays())
            #expect(
                try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
                    == NPZ.encode(sampleArrays(), compressed: compressed))
        }
        // Only the output file remains: the atomic writer's temporary is gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["ckpt.npz"])
    }

    @Test func compressionShrinksRedundantData() throws {
        let zeros = [NamedTensor(name: "z", tensor: .zeros(.float32, shape: [256, 256]))]
        let stored = try NPZ.encode(zeros, compressed: false)
        let deflated = try NPZ.encode(zeros, compressed: true)
        #expect(stored.count > 262_144)
        #expect(deflated.count < 2_000)
        #expect(try NPZ.read(bytes: deflated) == zeros)
    }

    @Test func bfloat16IsStoredAsFloat32() throws {
        let t = Tensor(dtype: .bfloat16, shape: [2], values: [0.5, -2])
        let back = try NPZ.read(bytes: NPZ.encode([NamedTensor(name: "b", tensor: t)], compressed: true))
        #expect(back == [NamedTensor(name: "b", tensor: Tensor(shape: [2], floats: [0.5, -2]))])
    }

    @Test func duplicateNamesAreRefusedOnWriteAndRead() throws {
        let a = NamedTensor(name: "w", tensor: .scalar(Float(1)))
        #expect(throws: NPZError.duplicateName(file: "", member: "w")) { try NPZ.encode([a, a], compressed: false) }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("dup.npz").path
        #expect(throws: NPZError.duplicateName(file: path, member: "w")) {
            try NPZ.write([a, a], to: path, compressed: false)
        }
        #expect(!FileManager.default.fileExists(atPath: path), "no partial output")

        // `w.npy` and `w` both become the array `w`.
        var zip = ZipWriter(sink: ZipMemorySink())
        let npy = NPY.encode(a.tensor)
        for name in ["w.npy", "w"] {
            try zip.addMember(
                name: name, method: Zip.methodStored, crc: ZipCRC32.update(0, npy), uncompressedSize: npy.count,
                pieces: [npy])
        }
        try zip.finish()
        let bytes = zip.sink.bytes
        #expect(throws: NPZError.duplicateName(file: "", member: "w")) { try NPZ.read(bytes: bytes) }
    }

    @Test func unwritablePathThrowsFileWriteError() {
        #expect(throws: FileWriteError.self) {
            try NPZ.write(sampleArrays(), to: "/nonexistent-effnet-dir/x.npz", compressed: false)
        }
    }

    @Test func unreadableInputsNameTheFile() throws {
        #expect(throws: NPZError.cannotOpen(file: "/nonexistent-effnet.npz", reason: "no such file")) {
            try NPZ.read(contentsOf: "/nonexistent-effnet.npz")
        }
        #expect(throws: NPZError.cannotOpen(file: "/tmp", reason: "is a directory")) {
            try NPZ.read(contentsOf: "/tmp")
        }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.npz").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: NPZError.truncated(file: empty, member: nil, detail: "the file is empty")) {
            try NPZ.read(contentsOf: empty)
        }
        let npy = dir.appendingPathComponent("single.npz").path
        _ = FileManager.default.createFile(atPath: npy, contents: Data(NPY.encode(.scalar(Float(1)))))
        let e = #expect(throws: NPZError.self) { try NPZ.read(contentsOf: npy) }
        #expect(e?.description == "\(npy): is a single .npy array, not an .npz (ZIP) archive")
        #expect(throws: NPZError.badMagic(file: "", member: nil, detail: "not an .npz archive (no ZIP signature)")) {
            try NPZ.read(bytes: Array(repeating: 7, count: 100))
        }
    }

    @Test func encryptedMembersAreRefused() throws {
        var bytes = try NPFixtures.bytes("savez.npz")
        let first = centralEntryOffsets(bytes)[0]
        bytes[first + 8] |= 1
        #expect(throws: NPZError.encrypted(file: "", member: "blocks.0.0.conv_pw.weight.npy")) {
            try NPZ.read(bytes: bytes)
        }
    }

    @Test func dataPrependedToTheArchiveIsSkipped() throws {
        // zip64.npz's locator then points 17 bytes short of its ZIP64 end record, which is found next to it.
        for file in ["savez_compressed.npz", "zip64.npz"] {
            let good = try NPFixtures.bytes(file)
            let prefixed = Array("#!/bin/sh\nexit 0\n".utf8) + good
            #expect(try NPZ.read(bytes: prefixed) == NPZ.read(bytes: good), "\(file)")
        }
    }

    @Test func directoryEntriesAreSkipped() throws {
        var zip = ZipWriter(sink: ZipMemorySink())
        try zip.addMember(name: "sub/", method: Zip.methodStored, crc: 0, uncompressedSize: 0, pieces: [])
        let npy = NPY.encode(.scalar(Float(2)))
        try zip.addMember(
            name: "sub/x.npy", method: Zip.methodStored, crc: ZipCRC32.update(0, npy), uncompressedSize: npy.count,
            pieces: [npy])
        try zip.finish()
        #expect(try NPZ.read(bytes: zip.sink.bytes) == [NamedTensor(name: "sub/x", tensor: .scalar(Float(2)))])
    }

    /// Members whose declared sizes are impossible fail before anything of that size is allocated.
    @Test func hostileSizesFailBeforeAllocation() throws {
        let npy = NPY.encode(.scalar(Float(2)))
        let crc = ZipCRC32.update(0, npy)
        let deflated = ZipDeflate.compress([npy])

        var zip = ZipWriter(sink: ZipMemorySink())
        try zip.addMember(
            name: "bomb.npy", method: Zip.methodDeflate, crc: crc, uncompressedSize: 1_000_000_000_000,
            pieces: [deflated])
        try zip.finish()
        let bomb = #expect(throws: NPZError.self) { try NPZ.read(bytes: zip.sink.bytes) }
        #expect(bomb?.description.contains("more than deflate can produce") == true)

        // A plausible ratio but still more than the data holds: the .npy header's size check catches it.
        zip = ZipWriter(sink: ZipMemorySink())
        try zip.addMember(
            name: "short.npy", method: Zip.methodDeflate, crc: crc, uncompressedSize: npy.count + 4, pieces: [deflated])
        try zip.finish()
        #expect(throws: NPZError.self) { try NPZ.read(bytes: zip.sink.bytes) }

        // A .npy header inside a stored member that claims 10¹² elements.
        let hostile = npyFile(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", data: [0, 0, 0, 0])
        zip = ZipWriter(sink: ZipMemorySink())
        try zip.addMember(
            name: "huge.npy", method: Zip.methodStored, crc: ZipCRC32.update(0, hostile),
            uncompressedSize: hostile.count, pieces: [hostile])
        try zip.finish()
        let huge = #expect(throws: NPZError.self) { try NPZ.read(bytes: zip.sink.bytes) }
        #expect(huge.map(NPFixtures.kind) == "sizeMismatch")
        #expect(huge.flatMap(NPFixtures.member) == "huge.npy")

        // A central directory that claims more entries than it can hold.
        var bytes = try NPFixtures.bytes("savez.npz")
        bytes[bytes.count - 12] = 0xff
        bytes[bytes.count - 11] = 0xfe
        let count = #expect(throws: NPZError.self) { try NPZ.read(bytes: bytes) }
        #expect(count?.description.contains("cannot fit") == true)
    }

    /// Deflate can legitimately expand ~1000:1 (zeros), so members above 64 MiB and 16× their compressed size
    /// are inflated into a growing buffer: a real one reads back intact, a lying one fails when its data ends, and
    /// one claiming more than the highly-compressed allowance (256 MiB) is refused before inflating.
    @Test func highlyCompressedMembersReadAndLiesFailEarly() throws {
        let zeros = [NamedTensor(name: "z", tensor: .zeros(.float32, shape: [17, 1 << 20]))]  // 68 MiB
        let bytes = try NPZ.encode(zeros, compressed: true)
        #expect(bytes.count < 200_000)
        #expect(try NPZ.read(bytes: bytes) == zeros)

        // 1 MiB of incompressible data behind a header claiming 2·10⁸ bytes: a ratio deflate allows and within the
        // 256 MiB highly-compressed allowance, a lie still: it fails when the deflate data ends.
        var rng = SplitMix64(seed: 3)
        let noise = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        func lying(claim: Int) throws -> [UInt8] {
            let header = NPY.header(descr: "<f4", shape: [claim / 4])
            var zip = ZipWriter(sink: ZipMemorySink())
            try zip.addMember(
                name: "lie.npy", method: Zip.methodDeflate, crc: 0, uncompressedSize: header.count + claim,
                pieces: [ZipDeflate.compress([header, noise])])
            try zip.finish()
            return zip.sink.bytes
        }
        let lie = #expect(throws: NPZError.self) { try NPZ.read(bytes: try lying(claim: 200_000_000)) }
        #expect(lie.map(NPFixtures.kind) == "sizeMismatch")
        #expect(lie?.description.contains("the deflate data ends 198951424 bytes before the declared") == true)

        // Claiming 10⁹ bytes from 1 MiB (≈950:1) is beyond that allowance: refused from the headers, before inflating.
        let bomb = #expect(throws: NPZError.self) { try NPZ.read(bytes: try lying(claim: 1_000_000_000)) }
        #expect(bomb.map(NPFixtures.kind) == "tooLarge")
        #expect(bomb?.description.hasSuffix("refused as a compression bomb") == true)
    }

    @Test func errorDescriptionsNameFileAndMember() throws {
        let path = NPFixtures.path("bad_crc.npz")
        let e = #expect(throws: NPZError.self) { try NPZ.read(contentsOf: path) }
        let message = e?.description ?? ""
        #expect(message.hasPrefix("\(path): 'bn1.running_var.npy': bad CRC-32 (archive says 0x"))
        #expect(message.hasSuffix("): the data is corrupt"))
        let bz = #expect(throws: NPZError.self) { try NPZ.read(contentsOf: NPFixtures.path("bzip2.npz")) }
        #expect(
            bz?.description
                == "\(NPFixtures.path("bzip2.npz")): 'w.npy': unsupported compression method 12 (bzip2); only stored and deflate are read"
        )
        let cut = #expect(throws: NPZError.self) { try NPZ.read(contentsOf: NPFixtures.path("truncated.npz")) }
        #expect(
            cut?.description
                == "\(NPFixtures.path("truncated.npz")): truncated: no end-of-central-directory record: the archive is cut short"
        )
    }

    @Test func cp437NamesDecodeAsPythonDoes() {
        let name: [UInt8] = [0x82, 0x74, 0xe9]  // é t Θ in code page 437
        #expect(name.withUnsafeBytes { Zip.decodeName($0, utf8: false) } == "étΘ")
        #expect(Array("é".utf8).withUnsafeBytes { Zip.decodeName($0, utf8: true) } == "é")
    }
}
