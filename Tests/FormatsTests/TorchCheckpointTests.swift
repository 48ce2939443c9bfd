import Foundation
import IR
import Testing

@testable import Formats

/// `torch.save` files: both layouts read to the same tensors as the source fixture's `.npz`, the unpickler refuses
/// every global outside the weights-only allowance by name, and damaged files fail with an error, never a crash.
@Suite struct TorchCheckpointTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures").path

    static func fixture(_ relative: String) -> String { root + "/" + relative }

    /// Zip and legacy, plain and nested, hold the same tensors in the same order; for timm they also equal what
    /// `safetensors.torch.save_file` wrote from the same state dict.
    @Test func bothLayoutsReadTheSameStateDict() throws {
        let dir = Self.fixture("formats/")
        for (a, b) in [
            ("timm_tf_efficientnetv2_b0/pytorch_model.bin", "timm_tf_efficientnetv2_b0/nested_legacy.pth"),
            ("torchvision_efficientnet_v2_s/nested.pth", "torchvision_efficientnet_v2_s/legacy.pth"),
        ] {
            #expect(try ModelFileKind.detect(path: dir + a) == .pytorch)
            #expect(try ModelFileKind.detect(path: dir + b) == .pytorch)
            let x = try TorchCheckpoint.read(contentsOf: dir + a)
            let y = try TorchCheckpoint.read(contentsOf: dir + b)
            #expect(x.count > 100)
            #expect(x == y, "\(a) vs \(b)")
        }
        let zip = try TorchCheckpoint.read(contentsOf: dir + "timm_tf_efficientnetv2_b0/pytorch_model.bin")
        let st = try Safetensors.read(contentsOf: dir + "timm_tf_efficientnetv2_b0/model.safetensors")
        #expect(Dictionary(uniqueKeysWithValues: zip.map { ($0.name, $0.tensor) })
            == Dictionary(uniqueKeysWithValues: st.map { ($0.name, $0.tensor) }))
    }

    /// GLOBAL 'module\nname\n', a string argument, TUPLE1, REDUCE, STOP.
    static func callingPickle(_ module: String, _ name: String, _ argument: String) -> [UInt8] {
        var p: [UInt8] = [0x80, 0x02, 0x63] + Array("\(module)\n\(name)\n".utf8)
        let arg = Array(argument.utf8)
        p += [0x58] + withUnsafeBytes(of: UInt32(arg.count).littleEndian, Array.init) + arg
        return p + [0x85, 0x52, 0x2e]
    }

    @Test(arguments: [("os", "system"), ("builtins", "eval"), ("posix", "system"), ("argparse", "Namespace"),
                      ("torch", "load"), ("collections", "defaultdict")])
    func everyOtherGlobalIsRefusedByName(module: String, name: String) throws {
        let pickle = Self.callingPickle(module, name, "true")
        #expect(throws: WeightFileError.refusedGlobal(file: "x.pth", global: "\(module).\(name)")) {
            try TorchCheckpoint.decode(bytes: pickle, file: "x.pth")
        }
        // The same pickle as the data.pkl of a zip-format file.
        var zip = ZipWriter(sink: ZipMemorySink())
        try zip.addMember(
            name: "archive/data.pkl", method: Zip.methodStored, crc: ZipCRC32.update(0, pickle),
            uncompressedSize: pickle.count, pieces: [pickle])
        try zip.finish()
        #expect(throws: WeightFileError.refusedGlobal(file: "x.pth", global: "\(module).\(name)")) {
            try TorchCheckpoint.decode(bytes: zip.sink.bytes, file: "x.pth")
        }
    }

    /// A STACK_GLOBAL (protocol 4) naming a forbidden global is refused the same way.
    @Test func stackGlobalIsRefused() throws {
        let s = { (t: String) -> [UInt8] in [0x8c, UInt8(t.utf8.count)] + Array(t.utf8) }
        let pickle: [UInt8] = [0x80, 0x04] + s("subprocess") + s("run") + [0x93] + s("ls") + [0x85, 0x52, 0x2e]
        #expect(throws: WeightFileError.refusedGlobal(file: "", global: "subprocess.run")) {
            try TorchCheckpoint.decode(bytes: pickle)
        }
    }

    /// Cut anywhere, both layouts fail with a reader error (never a crash or a partial state dict).
    @Test(arguments: ["timm_tf_efficientnetv2_b0/nested_legacy.pth", "timm_tf_efficientnetv2_b0/pytorch_model.bin"])
    func truncationsAreRefused(file: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixture("formats/" + file))))
        for n in stride(from: 1, to: bytes.count, by: 4099) + [bytes.count - 1] {
            #expect(throws: (any Error).self) { try TorchCheckpoint.decode(bytes: Array(bytes[0..<n])) }
        }
    }

    /// A legacy storage that declares more elements than the file holds is refused before allocating them.
    @Test func lyingStorageSizeIsRefused() throws {
        var bytes = try [UInt8](
            Data(contentsOf: URL(fileURLWithPath: Self.fixture("formats/torchvision_efficientnet_v2_s/legacy.pth"))))
        // The first storage's 8-byte count follows the fifth pickle (the storage key list).
        let at = try bytes.withUnsafeBytes { raw in
            var unpickler = TorchUnpickler(data: raw, file: "") { try TorchCheckpoint.storage($0, file: "") }
            for _ in 0..<5 { _ = try unpickler.load() }
            return unpickler.position
        }
        bytes.replaceSubrange(at..<(at + 8), with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init))
        #expect(throws: WeightFileError.self) { try TorchCheckpoint.decode(bytes: bytes) }
    }

    /// A tensor whose view reaches past its storage is refused.
    @Test func viewPastItsStorageIsRefused() throws {
        let storage = TorchStorageRef(key: "0", dtype: .float32, count: 4)
        let ref = TorchTensorRef(storage: storage, offset: 1, shape: [2, 2], strides: [2, 1])
        #expect(throws: WeightFileError.self) {
            try TorchCheckpoint.materialize(ref, root: [UInt8](repeating: 0, count: 16), name: "w", file: "")
        }
        // Transposed views are gathered.
        let root = Tensor(shape: [4], floats: [1, 2, 3, 4]).bytes
        let t = try TorchCheckpoint.materialize(
            TorchTensorRef(storage: storage, offset: 0, shape: [2, 2], strides: [1, 2]), root: root, name: "w", file: "")
        #expect(t.floats == [1, 3, 2, 4])
    }
}
