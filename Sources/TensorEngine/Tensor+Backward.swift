import Foundation

extension Tensor {
    /// Fills `grad` of every tensor this one was computed from, by reverse-mode differentiation.
    /// `self` must be a scalar (a loss); gradients accumulate across calls until `zeroGrad`.
    public func backward() {
        precondition(count == 1, "backward() starts from a scalar, not \(shape)")
        let order = topologicalOrder()
        grad = [1]
        for tensor in order.reversed() {
            guard let operation = tensor.operation, let output = tensor.grad else { continue }
            Self.propagate(output, through: operation, result: tensor)
        }
    }

    /// The tensors this one depends on, each after its inputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            guard seen.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.operation?.inputs ?? [] where input.requiresGrad { stack.append((input, false)) }
        }
        return order
    }

    public func zeroGrad() { grad = nil }

    /// Adds `values` (laid out like this tensor) to this tensor's gradient.
    func accumulate(_ values: [Float]) {
        guard requiresGrad else { return }
        guard grad != nil else {
            grad = values
            return
        }
        precondition(grad!.count == values.count, "a gradient of \(values.count) values for \(grad!.count)")
        withMutablePointers(&grad!) { sum in
            withPointers(values) { values in
                // A tensor read twice (a block's input feeds its shortcut and its first convolution)
                // sums megabytes here: split among the workers, as the passes around it are.
                nonisolated(unsafe) let (sum, values) = (sum, values)
                Self.forEachShare(of: count, elements: count) { range in
                    for i in range { sum[i] += values[i] }
                }
            }
        }
    }

    /// Every gradient rule, one per operation: `output` is d(loss)/d(result). The short rules sit
    /// here; the long ones beside their forward rules, in each family's folder (Matmul,
    /// Convolution, Pooling, Normalization).
    static func propagate(_ output: [Float], through operation: Operation, result: Tensor) {
        switch operation {
        case .add(let a, let b):
            binary(a, b, result, output, { d, _, _ in d }, { d, _, _ in d })
        case .subtract(let a, let b):
            binary(a, b, result, output, { d, _, _ in d }, { d, _, _ in -d })
        case .multiply(let a, let b):
            binary(a, b, result, output, { d, _, y in d * y }, { d, x, _ in d * x })
        case .divide(let a, let b):
            binary(a, b, result, output, { d, _, y in d / y }, { d, x, y in -d * x / (y * y) })
        case .matmul(let a, let b):
            matmulBackward(a, b, output)
        case .exp(let a):
            a.accumulate(zip(output, result.data).map { $0 * $1 })
        case .log(let a):
            a.accumulate(zip(output, a.data).map { $0 / $1 })
        case .relu(let a):
            a.accumulate(zip(output, a.data).map { $1 > 0 ? $0 : 0 })
        case .sigmoid(let a):
            a.accumulate(zip(output, result.data).map { $0 * $1 * (1 - $1) })
        case .tanh(let a):
            a.accumulate(zip(output, result.data).map { $0 * (1 - $1 * $1) })
        case .sum(let a, let axis):
            guard let axis else {
                a.accumulate([Float](repeating: output[0], count: a.count))
                return
            }
            let (outer, size, inner) = a.split(at: axis)
            var spread = Tensor.uninitialized(a.count)
            withPointers(output) { d in
                withMutablePointers(&spread) { spread in
                    for o in 0..<outer {
                        for s in 0..<size { (spread + (o * size + s) * inner).update(from: d + o * inner, count: inner) }
                    }
                }
            }
            a.accumulate(spread)
        case .reshape(let a):
            a.accumulate(output)
        case .transpose(let a):
            a.accumulate(Tensor(shape: result.shape, data: output).transposed().data)
        case .permute(let a, let axes):
            var back = [Float](repeating: 0, count: a.count)
            for (flat, source) in permutationIndex(shape: a.shape, axes: axes).enumerated() { back[source] = output[flat] }
            a.accumulate(back)
        case .sqrt(let a):
            a.accumulate(zip(output, result.data).map { $0 * 0.5 / $1 })
        case .erf(let a):
            let scale = 2 / Float.pi.squareRoot()
            a.accumulate(zip(output, a.data).map { $0 * scale * Foundation.exp(-$1 * $1) })
        case .concat(let tensors, let axis):
            let outer = tensors[0].shape[..<axis].reduce(1, *)
            var parts = tensors.map { _ in [Float]() }
            var position = 0
            for _ in 0..<outer {
                for (index, t) in tensors.enumerated() {
                    let block = t.count / max(outer, 1)
                    parts[index].append(contentsOf: output[position..<(position + block)])
                    position += block
                }
            }
            for (t, part) in zip(tensors, parts) { t.accumulate(part) }
        case .slice(let a, let axis, let start):
            let (outer, size, inner) = a.split(at: axis)
            let length = result.shape[axis]
            var back = [Float](repeating: 0, count: a.count)
            for o in 0..<outer {
                for i in 0..<(length * inner) { back[(o * size + start) * inner + i] = output[o * length * inner + i] }
            }
            a.accumulate(back)
        case .embedding(let table, let indices):
            let width = table.shape[1]
            var back = [Float](repeating: 0, count: table.count)
            for (row, index) in indices.enumerated() {
                for j in 0..<width { back[index * width + j] += output[row * width + j] }
            }
            table.accumulate(back)
        case .conv2d(let input, let weight, let geometry):
            conv2dBackward(input, weight, geometry, output)
        case .maxPool2d(let a, let sources):
            maxPoolBackward(a, sources: sources, output)
        case .averagePool2d(let a, let geometry):
            averagePoolBackward(a, geometry, output)
        case .upsample2d(let a, let factor):
            upsampleBackward(a, factor: factor, output)
        case .batchNorm(let input, let scale, let shift, let residual, let statistics):
            batchNormBackward(input, scale, shift, residual, statistics, output: result.data, gradient: output)
        case .groupNorm(let input, let scale, let shift, let statistics):
            groupNormBackward(input, scale, shift, statistics, gradient: output)
        case .planeBias(let input, let bias):
            planeBiasBackward(input, bias, gradient: output)
        }
    }

    /// Elementwise rules with broadcasting: `left(d, x, y)` and `right(d, x, y)` give the
    /// gradients for one output element, which are then summed back over stretched axes.
    private static func binary(_ a: Tensor, _ b: Tensor, _ result: Tensor, _ output: [Float],
                               _ left: (Float, Float, Float) -> Float, _ right: (Float, Float, Float) -> Float) {
        if a.shape == b.shape {
            if a.requiresGrad { a.accumulate((0..<output.count).map { left(output[$0], a.data[$0], b.data[$0]) }) }
            if b.requiresGrad { b.accumulate((0..<output.count).map { right(output[$0], a.data[$0], b.data[$0]) }) }
            return
        }
        // One walk over the output; a stretched input's gradient sums over the axes it was stretched on.
        var da = [Float](repeating: 0, count: a.requiresGrad ? a.count : 0)
        var db = [Float](repeating: 0, count: b.requiresGrad ? b.count : 0)
        let (wantA, wantB) = (a.requiresGrad, b.requiresGrad)
        withPointers(a.data, b.data) { x, y in
            withMutablePointers(&da, &db) { da, db in
                Broadcast(a.shape, b.shape).forEachRun { o, l, r, length, ls, rs in
                    for i in 0..<length {
                        let (d, xi, yi) = (output[o + i], x[l + i * ls], y[r + i * rs])
                        if wantA { da[l + i * ls] += left(d, xi, yi) }
                        if wantB { db[r + i * rs] += right(d, xi, yi) }
                    }
                }
            }
        }
        a.accumulate(da)
        b.accumulate(db)
    }
}
