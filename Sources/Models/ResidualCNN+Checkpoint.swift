import Foundation
import TensorEngine

extension ResidualCNN {
    /// Every tensor a checkpoint holds: the parameters, and each batch norm's running statistics
    /// under PyTorch's names (`<layer>.running_mean`, `<layer>.running_var`).
    public func checkpointTensors() -> [String: Tensor] {
        var tensors = parameters.mapValues { $0.detached() }
        for (layer, statistics) in runningStatistics {
            tensors["\(layer).running_mean"] = Tensor(shape: [statistics.mean.count], data: statistics.mean)
            tensors["\(layer).running_var"] = Tensor(shape: [statistics.variance.count], data: statistics.variance)
        }
        return tensors
    }

    /// A network with the given configuration and the weights of `tensors` (as
    /// `checkpointTensors()` writes them); every tensor the configuration needs must be there,
    /// with its shape.
    public convenience init(configuration: Configuration, tensors: [String: Tensor]) throws(CheckpointError) {
        self.init(configuration: configuration, seed: 0)
        for (name, parameter) in parameters {
            guard let stored = tensors[name] else { throw CheckpointError("the checkpoint has no tensor \(name)") }
            guard stored.shape == parameter.shape else {
                throw CheckpointError("\(name) has shape \(stored.shape) in the checkpoint, \(parameter.shape) in the network")
            }
            parameter.data = stored.data
        }
        for layer in runningStatistics.keys {
            guard let mean = tensors["\(layer).running_mean"], let variance = tensors["\(layer).running_var"],
                  mean.count == runningStatistics[layer]!.mean.count, variance.count == mean.count
            else { throw CheckpointError("the checkpoint lacks the running statistics of \(layer)") }
            runningStatistics[layer] = (mean.data, variance.data)
        }
    }

    /// Copies the weights and running statistics of `other`, a network of the same configuration.
    public func load(from other: ResidualCNN) {
        precondition(other.configuration == configuration, "loading weights across configurations")
        for (name, parameter) in parameters { parameter.data = other.parameters[name]!.data }
        runningStatistics = other.runningStatistics
    }

    /// self ← decay · self + (1 − decay) · other, for the weights and the batch-norm statistics:
    /// an exponential moving average (a mean teacher, an EMA of training).
    public func average(towards other: ResidualCNN, decay: Float) {
        precondition(other.configuration == configuration, "averaging weights across configurations")
        let keep = decay, take = 1 - decay
        for (name, parameter) in parameters {
            let source = other.parameters[name]!.data
            var target = parameter.data
            for i in target.indices { target[i] = keep * target[i] + take * source[i] }
            parameter.data = target
        }
        for (layer, statistics) in other.runningStatistics {
            let old = runningStatistics[layer]!
            runningStatistics[layer] = (zip(old.mean, statistics.mean).map { keep * $0 + take * $1 },
                                        zip(old.variance, statistics.variance).map { keep * $0 + take * $1 })
        }
    }
}

/// Why a checkpoint could not be read.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
