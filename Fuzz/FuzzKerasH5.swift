// libFuzzer target: the Keras HDF5 weights reader (legacy `.h5`, Keras 3 `.weights.h5`) on arbitrary bytes, read
// from memory by effnet's own HDF5 reader (Sources/Formats/HDF5) as `.keras` members are (built by tools/fuzz.sh,
// not by SwiftPM). Every input must either decode or throw an error; a trap, a crash, an ASan report, a leak or a
// timeout is a finding.
@testable import Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKerasH5(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = try? KerasH5.read(try H5File(bytes: bytes, name: "fuzz.h5"))
    return 0
}
