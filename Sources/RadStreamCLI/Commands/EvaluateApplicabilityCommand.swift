import ArgumentParser
import Foundation
import Models
import TensorEngine
import Training

struct EvaluateApplicabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-applicability",
        abstract: "How often each shipped classifier's applicability gate lets its own films through, and refuses other material.",
        discussion: """
            For every classifier at --model that has an applicability gate: its validation films \
            (the split its manifest records), which should be applicable, and material it was never \
            made for, which should not: those films inverted, rotated and upside down; uniform noise, \
            blank images and synthetic pictures; the adult films of the COVID-19 collection (for a \
            paediatric model), PneumoniaMNIST's paediatric films (for the COVID-19 model) and the \
            shared sample files. Prints the share marked applicable per set and model.

            Example: radstream evaluate-applicability
            """)

    @Option(help: "A model file or folder (default: the shipped models).") var model: String?
    @Option(help: "The shared data folder.") var data = ProcessInfo.processInfo.environment["RADSTREAM_DATA"] ?? "../shared/data"
    @Option(help: "Threads the tensor engine uses.") var threads = 2
    @Flag(help: "Print the table as one JSON document instead.") var json = false

    func run() throws {
        EngineWorkers.setCount(threads)
        let location = model.map { URL(filePath: $0) } ?? ModelStore.defaultDirectory()
        let dataURL = URL(filePath: data)
        let report = TablesOutput("applicability: the share of each material each classifier's gate lets through", json: json)
        report.table(["material", "model", "images", "share applicable", "should be"])
        for served in try ModelStore.gatedClassifiers(at: location, stale: { StandardError().line($0) }) {
            let classifier = served.classifier
            guard let gate = served.gate else {
                StandardError().line("\(classifier.settings.name) \(classifier.settings.version): no applicability gate fitted for this version")
                continue
            }
            let folder = location.appending(path: classifier.settings.name)
            let manifest = try ModelManifest.read(from: folder)
            let own = try TrainingData.load(manifest.data.source, side: classifier.settings.inputSide,
                                            validationShare: manifest.data.validationShare, splitSeed: manifest.data.splitSeed).validation
            let paediatric = manifest.data.source.contains("pneumoniamnist")
            for material in try ApplicabilityMaterials.sets(own: own, data: dataURL, side: classifier.settings.inputSide,
                                                            includeCovid: paediatric, includePaediatric: !paediatric) {
                let share = ApplicabilityFitting.applicableShare(of: material.images, classifier: classifier, gate: gate)
                report.row([material.name, classifier.settings.name, "\(material.images.count)", String(format: "%.3f", share),
                            material.name == "its validation films" ? "applicable" : "not"])
            }
        }
        try report.finish()
    }
}
