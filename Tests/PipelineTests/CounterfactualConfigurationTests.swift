import Foundation
import TestSupport
import Testing
@testable import Pipeline

@Suite("The counterfactual worker's configuration")
struct CounterfactualConfigurationTests {
    static let models = TestData.packageRoot.appending(path: "models")

    /// On by default; the environment turns it off and sets its share of a core, refusing nonsense.
    @Test func theEnvironmentTurnsItOffAndSetsItsShare() throws {
        var configuration = RadStreamConfiguration.standard
        #expect(configuration.counterfactuals.enabled && configuration.counterfactuals.cpuShare == 0.25)
        try configuration.apply(environment: ["RADSTREAM_COUNTERFACTUALS": "false", "RADSTREAM_COUNTERFACTUALS_CPU_SHARE": "0.5"])
        #expect(!configuration.counterfactuals.enabled && configuration.counterfactuals.cpuShare == 0.5)
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["RADSTREAM_COUNTERFACTUALS_CPU_SHARE": "2"]) }
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["RADSTREAM_COUNTERFACTUALS": "maybe"]) }
    }

    /// The daemon loads the joint model with the others; one it cannot load stops the start with
    /// the reason and the switch that turns the worker off.
    @Test func aMissingExplainerStopsTheStartWithTheSwitch() throws {
        var configuration = RadStreamConfiguration.standard
        configuration.models.directory = Self.models.path
        configuration.models.summarizeReports = false
        configuration.models.captionImages = false
        #expect(try EventProcessor(configuration: configuration).explainer?.settings.name == "pneumonia")
        configuration.counterfactuals.model = "no-such-model"
        let error = #expect(throws: ConfigurationError.self) { try EventProcessor(configuration: configuration) }
        #expect(error?.description.contains("no-such-model") == true && error?.description.contains("counterfactuals.enabled=false") == true)
        configuration.counterfactuals.enabled = false
        #expect(try EventProcessor(configuration: configuration).explainer == nil)
        configuration.counterfactuals = RadStreamConfiguration.standard.counterfactuals
        configuration.counterfactuals.cpuShare = 0
        #expect(throws: ConfigurationError.self) { try EventProcessor(configuration: configuration) }
    }
}
