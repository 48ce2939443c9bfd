import IR
import Testing

@testable import Formats

/// Damaged archives must throw an `NPZError` or decode, never trap: every truncation length and every single
/// byte flip of several valid archives (numpy's stored, deflated, ZIP64 and data-descriptor archives, and a
/// ZIP64 archive written here), plus random multi-byte damage. A trap (out-of-bounds read, overflow, failed
/// precondition) would kill the test process, so reaching the end is the assertion; the counts check that the
/// damage was actually noticed.
@Suite struct NPZFuzzTests {
    static func archives() throws -> [(String, [UInt8])] {
        var out = try ["savez.npz", "savez_compressed.npz", "zip64.npz", "descriptor.npz"].map {
            ($0, try NPFixtures.bytes($0))
        }
        out.append(
            ("written-zip64", try NPZ.encode(Array(sampleArrays().prefix(5)), compressed: true, zip64Threshold: 0)))
        return out
    }

    /// Decodes `bytes`; returns true when it threw an NPZError, records an issue for any other error.
    static func fails(_ bytes: [UInt8], _ what: @autoclosure () -> String) -> Bool {
        do {
            _ = try NPZ.read(bytes: bytes)
            return false
        } catch is NPZError {
            return true
        } catch {
            Issue.record("\(what()): unexpected error type \(type(of: error)): \(error)")
            return true
        }
    }

    @Test func everyTruncationThrows() throws {
        for (name, good) in try Self.archives() {
            for length in 0..<good.count {
                #expect(
                    Self.fails(Array(good[0..<length]), "\(name) cut at \(length)"), "\(name) cut at \(length) decoded")
            }
        }
    }

    @Test func everyByteFlipThrowsOrDecodes() throws {
        for (name, good) in try Self.archives() {
            var failures = 0
            for position in good.indices {
                for mask: UInt8 in [0xff, 0x01] {
                    var bad = good
                    bad[position] ^= mask
                    if Self.fails(bad, "\(name) byte \(position) ^ \(mask)") { failures += 1 }
                }
            }
            // Most bytes are covered by a CRC, a signature, a size or a header check.
            #expect(failures > good.count, "\(name): only \(failures) of \(2 * good.count) flips were noticed")
        }
    }

    @Test func randomDamageThrowsOrDecodes() throws {
        var rng = SplitMix64(seed: 42)
        for (name, good) in try Self.archives() {
            for round in 0..<400 {
                var bad = good
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    let p = Int.random(in: 0..<bad.count, using: &rng)
                    bad[p] = UInt8.random(in: 0...255, using: &rng)
                }
                if round % 4 == 0 { bad = Array(bad.prefix(Int.random(in: 0...bad.count, using: &rng))) }
                _ = Self.fails(bad, "\(name) round \(round)")
            }
        }
    }

    @Test func damagedNPYHeadersThrowOrDecode() throws {
        var rng = SplitMix64(seed: 7)
        for file in ["f4_le.npy", "fortran_f8_4d.npy", "v3_f4.npy", "structured.npy"] {
            let good = try NPFixtures.bytes(file)
            for position in 0..<min(good.count, 128) {
                for _ in 0..<4 {
                    var bad = good
                    bad[position] = UInt8.random(in: 0...255, using: &rng)
                    do { _ = try NPY.decode(bad, name: file) } catch is NPZError {} catch {
                        Issue.record("\(file) byte \(position): unexpected \(error)")
                    }
                }
            }
        }
    }
}
