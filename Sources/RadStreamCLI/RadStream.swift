import ArgumentParser

@main
struct RadStream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "radstream",
        abstract: "Processes the stream of chest X-ray studies: Kafka in, PostgreSQL out.",
        discussion: """
            The daemon (`serve`) consumes image and report events, splits reports into sections,
            decodes images and keeps their downsampled pixels, and commits every result with its
            consumer offsets in one PostgreSQL transaction. `demo` starts everything on this machine.
            """,
        subcommands: [
            SectionsCommand.self, ServeCommand.self, MigrateCommand.self, BrokerCommand.self,
            ReplayCommand.self, DemoCommand.self, BenchmarkCommand.self, TrainCommand.self,
            ClassifyCommand.self, ExplainCommand.self, EvaluateCommand.self, LabelCommand.self, EvaluateLabelerCommand.self,
        ])
}
