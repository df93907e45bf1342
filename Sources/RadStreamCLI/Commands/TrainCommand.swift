import ArgumentParser

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train RadStream's models in Swift, from the data in place; writes weights and a manifest.",
        subcommands: [TrainClassifierCommand.self, TrainApplicabilityCommand.self, TrainSummarizerCommand.self, TrainSummarizerRerankerCommand.self, TrainCaptionerCommand.self,
                      TrainDiffusionCommand.self])
}
