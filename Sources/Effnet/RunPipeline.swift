import Dispatch
import Foundation
import IR
import Imaging

/// `run`'s pipeline: images are read, checked against the pixel budget from their header, decoded and preprocessed
/// on worker threads, a batch at a time, while the runtime classifies the previous batch. Memory holds two batches
/// of prepared pixels and at most one decoded image per worker, whatever the number of images. Every batch has the
/// same shape (the last is padded with zeros), so the runtime plans it once.
package final class RunPipeline: @unchecked Sendable {
    package struct Prepared {
        /// The images of the batch that were prepared, in input order (rows 0..<paths.count of `tensor`).
        package var paths: [String]
        /// One line per image of the batch that failed: `<file>: <problem>`.
        package var failures: [String]
        package var tensor: Tensor
    }

    let paths: [String]
    let batch: Int
    let workers: Int
    let prep: Preprocessing
    let maxPixels: Int
    /// Apply each file's EXIF orientation before preprocessing (`--exif-transpose`).
    let exifTranspose: Bool

    package init(
        paths: [String], batch: Int, workers: Int, prep: Preprocessing, maxPixels: Int, exifTranspose: Bool = false
    ) {
        self.exifTranspose = exifTranspose
        self.paths = paths
        self.batch = batch
        self.workers = workers
        self.prep = prep
        self.maxPixels = maxPixels
    }

    /// Hands each batch, in input order, to `consume` on the calling thread.
    package func run(_ consume: (Prepared) throws -> Void) throws {
        let starts = Array(stride(from: 0, to: paths.count, by: batch))
        guard !starts.isEmpty else { return }
        final class Slot: @unchecked Sendable { var value: Prepared? }
        var current = prepare(starts[0])
        for (n, _) in starts.enumerated() {
            let next = Slot()
            let ready = DispatchSemaphore(value: 0)
            if n + 1 < starts.count {
                let first = starts[n + 1]
                DispatchQueue.global().async {
                    next.value = self.prepare(first)
                    ready.signal()
                }
            } else {
                ready.signal()
            }
            defer { ready.wait() }  // never leave a preparation running behind an error
            try consume(current)
            ready.wait()
            ready.signal()
            if let value = next.value { current = value }
        }
    }

    /// Reads, decodes and preprocesses the batch starting at input `first`.
    func prepare(_ first: Int) -> Prepared {
        let range = first..<min(first + batch, paths.count)
        final class Results: @unchecked Sendable {
            var pixels: [[UInt8]?]
            var errors: [String?]
            init(_ n: Int) {
                pixels = Array(repeating: nil, count: n)
                errors = Array(repeating: nil, count: n)
            }
        }
        let results = Results(range.count)
        let lock = NSLock()
        let prep = self.prep
        let maxPixels = self.maxPixels
        let exifTranspose = self.exifTranspose
        let paths = self.paths
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: min(workers, range.count)) { _ in
            while true {
                let i = next.take()
                if i >= range.count { return }
                let path = paths[range.lowerBound + i]
                var pixels: [UInt8]? = nil
                var failure: String? = nil
                do {
                    pixels = try Self.prepareOne(path, prep: prep, maxPixels: maxPixels, exifTranspose: exifTranspose)
                } catch let e as ImageError {
                    failure = e.description
                } catch {
                    failure = "\(path): \(error)"
                }
                lock.lock()
                results.pixels[i] = pixels
                results.errors[i] = failure
                lock.unlock()
            }
        }
        var prepared = [[UInt8]]()
        var kept = [String]()
        var failures = [String]()
        for i in 0..<range.count {
            guard let pixels = results.pixels[i] else {
                failures.append(results.errors[i] ?? "\(paths[range.lowerBound + i]): failed")
                continue
            }
            prepared.append(pixels)
            kept.append(paths[range.lowerBound + i])
        }
        return Prepared(paths: kept, failures: failures, tensor: Self.tensor(prepared, batch: batch, prep: prep))
    }

    /// A batch of `batch` images (rows past `images.count` are zeros) from prepared `size × size` RGB pixels:
    /// scaled to 0…1 (or kept 0…255), normalized with the mean and std, in the preprocessing's layout.
    package static func tensor(_ images: [[UInt8]], batch: Int, prep: Preprocessing) -> Tensor {
        let size = prep.size
        let plane = size * size
        var values = [Float](repeating: 0, count: batch * plane * 3)
        for (n, pixels) in images.enumerated() {
            let base = n * plane * 3
            for c in 0..<3 {
                let m = prep.mean[c]
                let s = prep.std[c]
                for j in 0..<plane {
                    let v = Float(pixels[3 * j + c])
                    let scaled = prep.range == .unit ? v / 255 : v
                    values[prep.layout == .nchw ? base + c * plane + j : base + 3 * j + c] = (scaled - m) / s
                }
            }
        }
        let shape = prep.layout == .nchw ? [batch, 3, size, size] : [batch, size, size, 3]
        return Tensor(shape: shape, floats: values)
    }

    /// One image's prepared `size × size` RGB pixels.
    package static func prepareOne(
        _ path: String, prep: Preprocessing, maxPixels: Int, exifTranspose: Bool = false
    ) throws -> [UInt8] {
        let bytes = try RunInputs.read(path)
        if let (w, h) = RunInputs.dimensions(bytes), w.multipliedReportingOverflow(by: h).partialValue > maxPixels {
            throw ImageError.unsupportedImage(
                file: path, detail: "\(w)x\(h) is more than --max-pixels \(maxPixels)")
        }
        let image =
            exifTranspose
            ? try RGBImage(decodingAndOrienting: bytes, file: path, maxPixels: maxPixels)
            : try RGBImage(decoding: bytes, file: path, maxPixels: maxPixels)
        return prep.prepare(image).pixels
    }
}

/// A shared index handed out once each.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    func take() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
}
