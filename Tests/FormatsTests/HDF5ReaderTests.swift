import Foundation
import IR
import Testing

@testable import Formats

/// effnet's own HDF5 reader: every variant h5py writes (fixtures/hdf5, tools/make_hdf5_fixtures.py) reads
/// to the values the script stored, and hostile structures (truncation, addresses past the end, loops, lies about
/// sizes, global heap references outside their collection) fail with one exact message, never a trap.
@Suite struct HDF5ReaderTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/hdf5").path + "/"

    /// The values tools/make_hdf5_fixtures.py stores: kernel = arange(24)/8 - 1 (2×3×4), bias, gamma.
    static let kernel = (0..<24).map { Float($0) / 8 - 1 }
    static let bias: [Float] = [0.5, -0.25, 0.125, 1e-3]
    static let gamma: [Float] = [1, 2, 3, 4]

    static func read(_ name: String) throws -> [String: Tensor] {
        let tensors = try KerasH5.read(contentsOf: dir + name)
        return Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
    }

    static func read(image: [UInt8], name: String = "t.h5") throws -> [NamedTensor] {
        try image.withUnsafeBytes { try KerasH5.read(try H5File(bytes: $0, name: name)) }
    }

    /// The message of the error `body` throws (nil if it does not throw a WeightFileError).
    static func message(_ body: () throws -> Any) -> String? {
        do {
            _ = try body()
            return nil
        } catch let e as WeightFileError {
            return e.description
        } catch {
            return "\(type(of: error)): \(error)"
        }
    }

    @Test func everyVariantReadsTheStoredValues() throws {
        for name in ["v0.h5", "v2.h5", "v3.h5", "userblock.h5", "fixed_strings.h5", "continuation_v1.h5",
                     "continuation_v2.h5"] {
            let t = try Self.read(name)
            #expect(t.keys.sorted() == ["bn/gamma:0", "conv/bias:0", "conv/kernel:0"], "\(name)")
            #expect(t["conv/kernel:0"] == Tensor(shape: [2, 3, 4], floats: Self.kernel), "\(name)")
            #expect(t["conv/bias:0"] == Tensor(shape: [4], floats: Self.bias), "\(name)")
            #expect(t["bn/gamma:0"] == Tensor(shape: [4], floats: Self.gamma), "\(name)")
        }
    }

    /// float16 (kernel: exact, its values are multiples of 1/8), big-endian float32, compact layout, float64.
    @Test func otherFloatTypesAndCompactLayout() throws {
        let t = try Self.read("dtypes.h5")
        #expect(t["conv/kernel:0"] == Tensor(shape: [2, 3, 4], floats: Self.kernel))
        #expect(t["conv/bias:0"] == Tensor(shape: [4], floats: Self.bias))
        #expect(t["bn/gamma:0"] == Tensor(shape: [4], floats: Self.gamma))
        #expect(t["dense/kernel:0"] == Tensor(shape: [6, 4], floats: Self.kernel))
    }

    @Test func keras3WithLatestFormat() throws {
        let t = try Self.read("keras3_latest.weights.h5")
        #expect(t["conv2d/kernel"] == Tensor(shape: [2, 3, 4], floats: Self.kernel))
        #expect(t["batch_normalization/moving_variance"] == Tensor(shape: [4], floats: Self.gamma))
        #expect(t.count == 6)
    }

    @Test func unsupportedStorageIsNamed() {
        #expect(
            Self.message { try Self.read("chunked.h5") }
                == "\(Self.dir)chunked.h5: '/conv/conv/kernel:0': a chunked dataset is not supported; only contiguous and compact datasets")
        #expect(
            Self.message { try Self.read("dense_links.h5") }
                == "\(Self.dir)dense_links.h5: '': links stored in a fractal heap (dense link storage) are not supported")
    }

    /// Superblock 1 (4 more bytes than 0) and a Keras 3 layout built by hand, with a string attribute in the heap.
    @Test func superblockOneAndHandBuiltKeras3() throws {
        for version in [0, 1, 2] {
            let b = HDF5ImageBuilder(superblock: version)
            let data = b.allocate(16)
            b.patch(data, [Float(1), 2, 3, 4].flatMap { b.u32(Int($0.bitPattern)) })
            let heap = b.collection([Array("stem".utf8)])
            let zero = b.header(b.dataset([4], data: data, size: 16))
            let vars = b.header([b.linkInfo, b.link("0", to: zero), b.vlenAttribute("name", collection: heap, index: 1, length: 4)])
            let layer = b.header([b.linkInfo, b.link("vars", to: vars)])
            let layers = b.header([b.linkInfo, b.link("conv2d", to: layer)])
            b.root(b.header([b.linkInfo, b.link("layers", to: layers)]))
            let t = try Self.read(image: b.image())
            #expect(t.map(\.name) == ["stem/kernel"], "superblock \(version)")
            #expect(t.first?.tensor == Tensor(shape: [4], floats: [1, 2, 3, 4]))
        }
    }

    @Test func hostileStructures() throws {
        let v0 = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.dir + "v0.h5")))
        // Truncated superblock.
        #expect(
            Self.message { try Self.read(image: Array(v0.prefix(40))) }
                == "t.h5: truncated: the superblock at byte 0 is cut off by the end of the file at byte 40")
        // Root object header address past the end (superblock 0: at byte 64).
        var far = v0
        far.replaceSubrange(64..<72, with: HDF5ImageBuilder().u64(1 << 40))
        #expect(
            Self.message { try Self.read(image: far) }
                == "t.h5: truncated: the root group's object header at address 1099511627776 is past the end of the file (\(v0.count) bytes)")
        // No signature.
        #expect(
            Self.message { try Self.read(image: [UInt8](repeating: 7, count: 2000)) }
                == "t.h5: not a readable HDF5 file (no HDF5 signature at byte 0, 512, 1024, …)")
    }

    @Test func continuationLoop() {
        let b = HDF5ImageBuilder()
        let block = b.allocate(24)
        b.patch(block, b.u16(HDF5Message.continuation) + b.u16(16) + [0, 0, 0, 0] + b.u64(block) + b.u64(24))
        let root = b.header([b.continuation(block, 24), b.linkInfo])
        b.patch(root + 2, b.u16(100))  // more messages than the chunk holds: the rest are in the continuation
        b.root(root)
        #expect(
            Self.message { try Self.read(image: b.image()) }
                == "t.h5: the object header at byte \(root): continuation block at byte \(block) is read twice (a loop)")
    }

    @Test func groupCycle() {
        let b = HDF5ImageBuilder()
        let layers = b.allocate(128)
        let layer = b.header([b.linkInfo, b.link("layers", to: layers)])
        b.fill(layers, [b.linkInfo, b.link("conv2d", to: layer)])
        b.root(b.header([b.linkInfo, b.link("layers", to: layers)]))
        #expect(
            Self.message { try Self.read(image: b.image()) }
                == "t.h5: '/layers/conv2d/layers' is reached twice (a group that contains itself)")
    }

    /// Keras 3 `layers` groups nested deeper than `KerasH5.maxNesting` (each a distinct group, so not a cycle).
    @Test func deepNesting() {
        let b = HDF5ImageBuilder()
        var inner = b.header([b.linkInfo])
        for _ in 0..<40 {
            let layer = b.header([b.linkInfo, b.link("layers", to: inner)])
            inner = b.header([b.linkInfo, b.link("a", to: layer)])
        }
        b.root(b.header([b.linkInfo, b.link("layers", to: inner)]))
        let m = Self.message { try Self.read(image: b.image()) } ?? ""
        #expect(m.hasPrefix("t.h5: '/layers/a/layers/a/layers/"), "\(m)")
        #expect(m.hasSuffix("' nests layers more than 32 deep"), "\(m)")
    }

    /// 3,000 names each pointing at the same 64 KB global heap object would decode 192 MB from a 66 KB file: the
    /// bytes decoded count against the same bound as the structure parsed (32 × the file's size + 16 MB).
    @Test func stringAmplification() {
        let b = HDF5ImageBuilder()
        let heap = b.collection([[UInt8](repeating: 65, count: 65536)])
        // A one-dimensional attribute of 3,000 variable-length strings, all object 1 of the collection.
        let type: [UInt8] = [0x19, 0x01, 0, 0] + b.u32(16) + [0x13, 0, 0, 0] + b.u32(1)
        let space: [UInt8] = [1, 1, 0, 0, 0, 0, 0, 0] + b.u64(3000)
        let name = Array("layer_names".utf8) + [0]
        let element = b.u32(65536) + b.u64(heap) + b.u32(1)
        let body: [UInt8] = [3, 0] + b.u16(name.count) + b.u16(type.count) + b.u16(space.count) + [0] + name + type
            + space + (0..<3000).flatMap { _ in element }
        b.root(b.header([b.linkInfo, (HDF5Message.attribute, body)]))
        let image = b.image()
        let m = Self.message { try Self.read(image: image) } ?? ""
        #expect(m.hasPrefix("t.h5: '': attribute 'layer_names', element "), "\(m)")
        #expect(m.contains("bytes of HDF5 structure read for a \(image.count)-byte file"), "\(m)")
    }

    /// The keras fuzz target's finding: a dataset with a null dataspace (no elements) trapped building a scalar
    /// tensor from no values.
    @Test func nullDataspaceDataset() {
        let path = Self.dir + "../hostile/fuzz/keras-null-dataspace-crash.h5"
        #expect(
            Self.message { try KerasH5.read(contentsOf: path) }
                == "\(path): '/layers/batch_normalization/vars/0': has a null dataspace (no elements)")
        let b = HDF5ImageBuilder()
        let zero = b.header([
            (HDF5Message.dataspace, [2, 0, 0, 2]), (HDF5Message.datatype, b.float32),
            (HDF5Message.layout, [3, 1] + b.u64(UInt64.max) + b.u64(0)),
        ])
        let vars = b.header([b.linkInfo, b.link("0", to: zero)])
        let layer = b.header([b.linkInfo, b.link("vars", to: vars)])
        let layers = b.header([b.linkInfo, b.link("conv2d", to: layer)])
        b.root(b.header([b.linkInfo, b.link("layers", to: layers)]))
        #expect(
            Self.message { try Self.read(image: b.image()) }
                == "t.h5: '/layers/conv2d/vars/0': has a null dataspace (no elements)")
    }

    @Test func hugeDataspace() {
        for (dims, expected) in [
            ([UInt64(1) << 40, 1 << 40], "'/layers/conv2d/vars/0': the dataspace message: dimensions whose product overflows 64 bits"),
            ([1 << 20, 1 << 20, 1 << 10], "dataset '/layers/conv2d/vars/0' [1048576, 1048576, 1024] float32 needs 4.0 PiB"),
        ] {
            let b = HDF5ImageBuilder()
            let zero = b.header(b.dataset(dims, data: 0, size: 16))
            let vars = b.header([b.linkInfo, b.link("0", to: zero)])
            let layer = b.header([b.linkInfo, b.link("vars", to: vars)])
            let layers = b.header([b.linkInfo, b.link("conv2d", to: layer)])
            b.root(b.header([b.linkInfo, b.link("layers", to: layers)]))
            let m = Self.message { try Self.read(image: b.image()) } ?? ""
            #expect(m.hasPrefix("t.h5: " + expected), "\(m)")
        }
    }

    /// Variable-length strings whose global heap reference is bad: the crash site of libhdf5 1.10 (H5HG_read).
    @Test func variableLengthStringsOutsideTheGlobalHeap() {
        func legacy(_ attribute: (HDF5ImageBuilder) -> (Int, [UInt8])) -> [UInt8] {
            let b = HDF5ImageBuilder()
            b.root(b.header([b.linkInfo, attribute(b)]))
            return b.image()
        }
        let cases: [((HDF5ImageBuilder) -> (Int, [UInt8]), String)] = [
            ({ $0.vlenAttribute("layer_names", collection: 1 << 40, index: 1, length: 4) },
             "t.h5: truncated: '': attribute 'layer_names', element 0: the global heap collection at address 1099511627776 is past the end of the file"),
            ({ b in b.vlenAttribute("layer_names", collection: b.collection([Array("ab".utf8)]), index: 7, length: 2) },
             "t.h5: '': attribute 'layer_names', element 0: the global heap collection at byte 96 has no object 7"),
            ({ b in b.vlenAttribute("layer_names", collection: b.collection([Array("ab".utf8)]), index: 1, length: 4096) },
             "t.h5: '': attribute 'layer_names', element 0: a string of 4096 bytes in a global heap object of 2"),
            ({ b in
                let c = b.collection([Array("ab".utf8)])
                b.patch(c + 16 + 8, b.u64(1 << 30))  // the object's size: past the collection
                return b.vlenAttribute("layer_names", collection: c, index: 1, length: 2)
            }, "t.h5: the global heap collection at byte 96: a field at byte 128 needs 1073741824 bytes"),
            ({ b in
                let c = b.collection([Array("ab".utf8)])
                b.patch(c + 8, b.u64(1 << 30))  // the collection's size: past the file
                return b.vlenAttribute("layer_names", collection: c, index: 1, length: 2)
            }, "t.h5: truncated: the global heap collection at byte 96 (1073741824 bytes) runs past the end of the file"),
        ]
        for (attribute, expected) in cases {
            let m = Self.message { try Self.read(image: legacy(attribute)) } ?? ""
            #expect(m.hasPrefix(expected), "\(m)")
        }
    }
}
