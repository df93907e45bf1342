import Postgres
import Registry
import SelfTraining

extension SelfTrainer {
    /// A trainer on a connection of its own, where the leadership's advisory lock lives for as
    /// long as the trainer: the pools, the round log and the registry on the same connection.
    public static func connected(settings: SelfTrainingSettings, group: String, conninfo: String) throws -> SelfTrainer {
        let connection = try PostgresConnection(conninfo)
        return try SelfTrainer(settings: settings, group: group, pools: StoredImagePools(connection: connection),
                               log: PostgresRoundLog(connection: connection), versions: ModelRegistry(connection: connection),
                               leadership: AdvisoryLockLeadership(connection: connection))
    }
}
