import ArgumentParser

@main
struct RadStream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "radstream",
        abstract: "Processes the stream of chest X-ray studies: Kafka in, PostgreSQL out.",
        discussion: """
            The daemon (`serve`) consumes image and report events; splits reports into sections and
            labels them (14 CheXpert observations); decodes images, keeps their downsampled pixels
            and classifies them (with Grad-CAM maps); and commits every result with its consumer
            offsets in one PostgreSQL transaction. `demo` starts everything on this machine. The
            models are trained by `train`, run by `classify`, `explain` and `label` on files, and
            measured by `evaluate` and `evaluate-labeler`.
            """,
        subcommands: [
            SectionsCommand.self, ServeCommand.self, MigrateCommand.self, BrokerCommand.self,
            ReplayCommand.self, DemoCommand.self, BenchmarkCommand.self, TrainCommand.self,
            ClassifyCommand.self, ExplainCommand.self, EvaluateCommand.self, LabelCommand.self, SummarizeCommand.self, CaptionCommand.self, EvaluateLabelerCommand.self, EvaluateSummarizerCommand.self,
        ])
}
