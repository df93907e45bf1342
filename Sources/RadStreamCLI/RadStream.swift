import ArgumentParser
import BuildInfo
import TensorEngine

@main
struct RadStream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "radstream",
        abstract: "Processes the stream of chest X-ray studies: Kafka in, PostgreSQL out.",
        discussion: """
            The daemon (`serve`) consumes image and report events; splits reports into sections,
            labels them (14 CheXpert observations) and writes an impression from their findings;
            decodes images, keeps their downsampled pixels, classifies them (with Grad-CAM maps)
            and writes an impression from each; and commits every result with its consumer
            offsets in one PostgreSQL transaction. `demo` starts everything on this machine. The
            models are trained by `train`, run by `classify`, `explain`, `label`, `summarize` and
            `caption` on files, and measured by `evaluate`, `evaluate-labeler` and
            `evaluate-summarizer`.
            """,
        version: Release.description,
        subcommands: [
            SectionsCommand.self, ServeCommand.self, GatewayCommand.self, MigrateCommand.self, DashboardCommand.self, BrokerCommand.self,
            ReplayCommand.self, DemoCommand.self, BenchmarkCommand.self, TrainCommand.self,
            ClassifyCommand.self, ExplainCommand.self, EvaluateCommand.self, LabelCommand.self, SummarizeCommand.self,
            CaptionCommand.self, EvaluateLabelerCommand.self, EvaluateSummarizerCommand.self, EvaluateApplicabilityCommand.self,
            ModelsCommand.self, GenerateCommand.self, CounterfactualCommand.self, EvaluateCounterfactualsCommand.self,
            EvaluateGenerationCommand.self,
            SelfTrainCommand.self, ExperimentCommand.self, DrillCommand.self,
        ])

    static func main() async {
        // Before anything else: starting again is only free while nothing has happened yet.
        OpenBLASKernels.relaunchIfOpenBLASFellBack()
        // Training, the benchmarks and the daemon's models all allocate megabytes per call.
        ProcessMemory.keepFreedMemoryMapped()
        await main(nil as [String]?)
    }
}
