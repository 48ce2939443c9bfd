import Foundation
import IR
import Testing

@testable import Formats

/// TEMPORARY: the Swift HDF5 reader against libhdf5 on every Keras fixture (run before libhdf5 was removed).
@Suite struct HDF5CompareLibHDF5Tests {
    @Test func swiftReaderMatchesLibHDF5() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures").path
        let paths = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".h5") || $0.hasSuffix(".keras") }.map { root + "/" + $0 }
        #expect(paths.count >= 4)
        for path in paths {
            let keras = path.hasSuffix(".keras")
            if path.hasSuffix("chunked.h5") || path.hasSuffix("dense_links.h5") {
                #expect(throws: WeightFileError.self) { try KerasH5.read(contentsOf: path) }
                print("libhdf5 reads \(path): \(try KerasH5LibHDF5.read(contentsOf: path).count) tensors; effnet refuses")
                continue
            }
            let swift = try keras ? KerasH5.readArchive(contentsOf: path) : KerasH5.read(contentsOf: path)
            let lib = try keras ? KerasH5LibHDF5.readArchive(contentsOf: path) : KerasH5LibHDF5.read(contentsOf: path)
            #expect(swift.map(\.name) == lib.map(\.name), "\(path)")
            #expect(swift.map(\.tensor) == lib.map(\.tensor), "\(path)")
            print("compared \(path): \(swift.count) tensors")
        }
    }
}
