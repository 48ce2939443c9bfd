// libFuzzer target: the Keras HDF5 weights reader (legacy `.h5`, Keras 3 `.weights.h5`) on arbitrary bytes, opened
// from memory through libhdf5's core driver as `.keras` members are (built by tools/fuzz.sh, not by SwiftPM).
// libhdf5 is the system's build: its code is not coverage-instrumented (the fuzzer is guided by effnet's side
// only) and not ASan-instrumented (its own out-of-bounds reads show as crashes, not ASan reports), but its
// allocations go through ASan. Every input must either decode or throw an error; a trap, a crash, an ASan report
// or a leak is a finding.
@testable import Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKerasH5(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? H5File(image: bytes, name: "fuzz.h5") else { return 0 }
    // One input at a time: KerasH5's process-wide lock is not needed here.
    _ = try? KerasH5.read(file)
    return 0
}
