import ArgumentParser
import Foundation
import Pipeline
import Postgres
import Registry
import SelfTraining

/// `radstream models`: the model registry in PostgreSQL, and a person's say over what is served.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, promote and roll back the versions of the image models that self-training made.",
        discussion: """
            The registry (PostgreSQL table model_registry) keeps every version of each image model: \
            the first one the daemon served, and every candidate a self-training round made, with \
            its parent, its validation figures and its weights. A change of the served version is \
            announced to every running daemon, which swaps to it between two batches.

            Example: radstream models list, then radstream models promote <version> or radstream models rollback
            """,
        subcommands: [List.self, Promote.self, Rollback.self, Rounds.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every registered version, oldest first, with its status and figures.")
        @OptionGroup var database: RegistryDatabase
        @Option(help: "Only this model's versions.") var model: String?
        @Flag(help: "Print the versions as a JSON array instead of a table.") var json = false

        func run() throws {
            let versions = try ModelRegistry(connection: database.connect()).versions(of: model)
            if json { return try JSONOutput.print(versions) }
            guard !versions.isEmpty else {
                print("no registered versions: the daemon registers each classifier it serves when it starts")
                return
            }
            print(TextTable.render(header: ["model", "version", "status", "origin", "parent", "AUC", "ECE", "gate", "created"],
                                   rows: versions.map { version in
                let figures = (try? JSONSerialization.jsonObject(with: Data(version.metrics.utf8))) as? [String: Any]
                func figure(_ key: String) -> String { (figures?[key] as? Double).map { String(format: "%.4f", $0) } ?? "-" }
                return [version.model, version.version, version.status, version.origin, version.parentVersion ?? "-",
                        figure("auc"), figure("expectedCalibrationError"), version.gated ? "yes" : "no",
                        String(version.createdAt.prefix(19))]
            }))
        }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve VERSION from now on (every running daemon swaps to it).")
        @OptionGroup var database: RegistryDatabase
        @Argument(help: "The version, as `models list` shows it.") var version: String
        @Option(help: "The model, should several have this version.") var model: String?

        func run() throws {
            let announcement = try ModelRegistry(connection: database.connect()).promote(version, model: model)
            print("models: \(announcement.model) now serves \(announcement.version)")
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return a model to the version it served before the current one.",
            discussion: "Each rollback goes one version further back, undoing promotions in the order they happened.")
        @OptionGroup var database: RegistryDatabase
        @Option(help: "The model.") var model = "pneumonia"

        func run() throws {
            let (from, to) = try ModelRegistry(connection: database.connect()).rollback(model)
            print("models: \(to.model) rolled back from \(from) to \(to.version)")
        }
    }

    struct Rounds: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The self-training rounds, newest last, with their decisions.")
        @OptionGroup var database: RegistryDatabase
        @Option(help: "Only the last N rounds.") var last = 20
        @Flag(help: "Print the rounds as a JSON array (with both models' validation figures) instead of a table.") var json = false

        func run() throws {
            let rounds = try PostgresRoundLog(connection: database.connect()).latest(last)
            if json { return try JSONOutput.print(rounds) }
            guard !rounds.isEmpty else {
                print("no self-training rounds yet")
                return
            }
            let formatter = ISO8601DateFormatter()
            print(TextTable.render(header: ["round", "model", "group", "trigger", "started", "seconds", "labeled", "unlabeled",
                                            "teacher", "candidate", "decision", "why"],
                                   rows: rounds.map { round in
                                       [round.id.map(String.init) ?? "-", round.model, round.group, round.trigger.rawValue,
                                        formatter.string(from: round.startedAt), String(format: "%.1f", round.seconds),
                                        String(round.labeledImages), String(round.unlabeledImages), round.teacherVersion,
                                        round.candidateVersion ?? "-", round.decision, round.reason]
                                   }))
        }
    }
}
