extension Graph {
    /// A stable, readable text form used for golden files and `--dump`: inputs, initializers (dtype and shape
    /// only, sorted by name), then one line per node in the current order:
    ///
    ///     %out = Conv[kernel_shape=[3,3], pads=[1,1,1,1]](%x, @w, @b)   # name
    ///
    /// `%` marks a computed value and `@` an initializer; attributes are sorted by key. Tensor-valued attributes
    /// print dtype and shape; graph-valued attributes print their nodes indented beneath.
    public func dump(indent: String = "") -> String {
        var lines = [String]()
        lines.append("\(indent)graph \(name)")
        for input in inputs {
            lines.append(
                "\(indent)  input %\(input.name): \(input.dtype.map(\.rawValue) ?? "?")\(input.shape?.text ?? "[?]")")
        }
        for key in initializers.keys.sorted() {
            let t = initializers[key]!
            lines.append("\(indent)  init @\(key): \(t.dtype)\(Shape(t.shape).text)")
        }
        for node in nodes {
            let attrs = node.attributes.keys.sorted().map { "\($0)=\(Graph.text(of: node.attributes[$0]!))" }
            let op = (node.domain.isEmpty ? "" : node.domain + ".") + node.opType
            let ins = node.inputs.map { $0.isEmpty ? "_" : (initializers[$0] != nil ? "@" : "%") + $0 }
            let outs = node.outputs.map { "%" + $0 }.joined(separator: ", ")
            let attrText = attrs.isEmpty ? "" : "[" + attrs.joined(separator: ", ") + "]"
            lines.append("\(indent)  \(outs) = \(op)\(attrText)(\(ins.joined(separator: ", ")))")
            for key in node.attributes.keys.sorted() {
                if case .graph(let sub) = node.attributes[key]! {
                    lines.append(sub.dump(indent: indent + "    "))
                }
            }
        }
        for output in outputs {
            lines.append(
                "\(indent)  output %\(output.name): \(output.dtype.map(\.rawValue) ?? "?")\(output.shape?.text ?? "[?]")"
            )
        }
        return lines.joined(separator: "\n")
    }

    static func text(of attribute: Attribute) -> String {
        switch attribute {
        case .int(let v): String(v)
        case .ints(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .float(let v): String(v)
        case .floats(let v): "[" + v.map { String($0) }.joined(separator: ",") + "]"
        case .string(let v): "\"\(v)\""
        case .strings(let v): "[" + v.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        case .tensor(let t): t.count <= 8 ? t.description : "\(t.dtype)\(Shape(t.shape).text)"
        case .graph(let g): "<graph \(g.name): \(g.nodes.count) nodes>"
        }
    }
}
