import Foundation
import IR

@testable import Runtime

/// A deliberately plain NCHW evaluator (float64) for the graphs these tests build: the oracle for the fast plan.
/// It evaluates fused ops from their definitions in DEVELOPERS.md ("Fused ops"), not from their `body`.
struct NCHWEvaluator {
    struct Value {
        var shape: [Int]
        var data: [Double]
    }

    let graph: Graph

    func run(_ feeds: [String: Tensor]) -> [String: Value] {
        var env = [String: Value]()
        for (k, t) in graph.initializers { env[k] = Value(shape: t.shape, data: t.doubles) }
        for (k, t) in feeds { env[k] = Value(shape: t.shape, data: t.doubles) }
        for node in graph.nodes {
            let x = env[node.inputs[0]]!
            func w(_ i: Int) -> Value? { node.input(i).map { env[$0]! } }
            func act(_ key: String, _ fallback: String) -> KernelActivation {
                KernelActivation(attribute: node.string(key) ?? fallback)!
            }
            var y: Value
            switch node.opType {
            case "Conv", "FusedConv":
                y = conv(x, w(1)!, w(2), node: node)
                if node.opType == "FusedConv" { y = apply(act("activation", "none"), y) }
            case "FusedMBConv":
                var t = apply(act("activation", "silu"), conv(x, w(1)!, w(2), node: node))
                if let r = w(3) {
                    t = squeezeExcite(
                        t, r, w(4)!, w(5)!, w(6)!, act("se_activation", "silu"), act("se_gate", "sigmoid"))
                }
                if let p = w(7) { t = conv(t, p, w(8), node: nil) }
                y = node.int("residual") == 1 ? add(t, x) : t
            case "MBConv":
                var t = x
                if let e = w(1) { t = apply(act("activation", "silu"), conv(t, e, w(2), node: nil)) }
                t = apply(act("activation", "silu"), conv(t, w(3)!, w(4), node: node, group: t.shape[1]))
                if let r = w(5) {
                    t = squeezeExcite(
                        t, r, w(6)!, w(7)!, w(8)!, act("se_activation", "silu"), act("se_gate", "sigmoid"))
                }
                t = conv(t, w(9)!, w(10), node: nil)
                y = node.int("residual") == 1 ? add(t, x) : t
            case "Sigmoid": y = apply(.sigmoid, x)
            case "Relu": y = apply(.relu, x)
            case "Silu": y = apply(.silu, x)
            case "Add", "Mul":
                let b = env[node.inputs[1]]!
                y = broadcast(x, b) { node.opType == "Add" ? $0 + $1 : $0 * $1 }
            case "GlobalAveragePool": y = mean(x)
            case "Flatten": y = Value(shape: [x.shape[0], x.data.count / x.shape[0]], data: x.data)
            case "Gemm":
                let b = w(1)!
                let c = w(2)
                let (m, k) = (x.shape[0], x.shape[1])
                let transB = node.int("transB") == 1
                let n = transB ? b.shape[0] : b.shape[1]
                var out = [Double](repeating: 0, count: m * n)
                for i in 0..<m {
                    for j in 0..<n {
                        var s = c?.data[j] ?? 0
                        for p in 0..<k { s += x.data[i * k + p] * (transB ? b.data[j * k + p] : b.data[p * n + j]) }
                        out[i * n + j] = s
                    }
                }
                y = Value(shape: [m, n], data: out)
            case "Softmax":
                let inner = x.shape.last!
                var out = x.data
                for r in 0..<(x.data.count / inner) {
                    let row = x.data[(r * inner)..<((r + 1) * inner)]
                    let mx = row.max()!
                    let e = row.map { exp($0 - mx) }
                    let s = e.reduce(0, +)
                    for i in 0..<inner { out[r * inner + i] = e[i] / s }
                }
                y = Value(shape: x.shape, data: out)
            default: fatalError("evaluator: \(node.opType)")
            }
            env[node.outputs[0]] = y
        }
        return env
    }

    func apply(_ a: KernelActivation, _ x: Value) -> Value {
        Value(
            shape: x.shape,
            data: x.data.map { v in
                switch a {
                case .sigmoid: 1 / (1 + exp(-v))
                case .silu: v / (1 + exp(-v))
                default: Double(a.reference(Float(v)))
                }
            })
    }

    func add(_ a: Value, _ b: Value) -> Value { Value(shape: a.shape, data: zip(a.data, b.data).map(+)) }

    /// Broadcast for the shapes used here: equal, or b of shape [N or 1, C, 1, 1] against a 4-D a.
    func broadcast(_ a: Value, _ b: Value, _ f: (Double, Double) -> Double) -> Value {
        if a.shape == b.shape { return Value(shape: a.shape, data: zip(a.data, b.data).map(f)) }
        let (n, c, hw) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
        var out = a.data
        for i in 0..<(n * c * hw) {
            let img = i / (c * hw)
            let ch = (i / hw) % c
            out[i] = f(a.data[i], b.data[(b.shape[0] == 1 ? 0 : img * c) + ch])
        }
        return Value(shape: a.shape, data: out)
    }

    func mean(_ x: Value) -> Value {
        let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        var out = [Double](repeating: 0, count: n * c)
        for i in 0..<(n * c) { out[i] = x.data[(i * hw)..<((i + 1) * hw)].reduce(0, +) / Double(hw) }
        return Value(shape: [n, c, 1, 1], data: out)
    }

    func squeezeExcite(
        _ x: Value, _ rw: Value, _ rb: Value, _ ew: Value, _ eb: Value, _ a: KernelActivation, _ gate: KernelActivation
    ) -> Value {
        let s = apply(gate, conv(apply(a, conv(mean(x), rw, rb, node: nil)), ew, eb, node: nil))
        return broadcast(x, s, *)
    }

    /// Direct convolution: attributes from `node` (nil: 1×1, stride 1, no padding); `group` 1 or depthwise.
    func conv(_ x: Value, _ w: Value, _ b: Value?, node: Node?, group: Int? = nil) -> Value {
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let g = group ?? node?.int("group") ?? 1
        let s = node?.ints("strides") ?? [1, 1]
        let p = node?.ints("pads") ?? [0, 0, 0, 0]
        let oh = (h + p[0] + p[2] - kh) / s[0] + 1
        let ow = (wd + p[1] + p[3] - kw) / s[1] + 1
        let cinPerGroup = cin / g
        let coutPerGroup = cout / g
        var out = [Double](repeating: 0, count: n * cout * oh * ow)
        for img in 0..<n {
            for o in 0..<cout {
                let grp = o / coutPerGroup
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var acc = b?.data[o] ?? 0
                        for ci in 0..<cinPerGroup {
                            let c = grp * cinPerGroup + ci
                            for ky in 0..<kh {
                                let iy = oy * s[0] - p[0] + ky
                                if iy < 0 || iy >= h { continue }
                                for kx in 0..<kw {
                                    let ix = ox * s[1] - p[1] + kx
                                    if ix < 0 || ix >= wd { continue }
                                    acc +=
                                        x.data[((img * cin + c) * h + iy) * wd + ix]
                                        * w.data[((o * cinPerGroup + ci) * kh + ky) * kw + kx]
                                }
                            }
                        }
                        out[((img * cout + o) * oh + oy) * ow + ox] = acc
                    }
                }
            }
        }
        return Value(shape: [n, cout, oh, ow], data: out)
    }
}
