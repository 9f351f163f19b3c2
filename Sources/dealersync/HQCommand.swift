import ArgumentParser

/// `dealersync hq …`: run and administer the HQ service. Each subcommand lives in its own
/// file (HQServeCommand.swift, HQPrincipalCommands.swift, HQStatusCommand.swift).
struct HQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hq",
        abstract: "Run and administer the HQ service.",
        discussion: """
            Examples:
              dealersync hq serve --config hq.yaml
              dealersync hq add-dealer DLR-0421 --name "Lyon Nord" --config hq.yaml
              dealersync hq revoke-dealer DLR-0421 --config hq.yaml
              dealersync hq add-reader crm-export --config hq.yaml
              dealersync hq share vehicles '["LSVAU2180N2183294"]' --dealer DLR-0421 --config hq.yaml
              dealersync hq status --json --store /var/lib/dealersync/hq.sqlite
              dealersync hq group add pilot --config hq.yaml
              dealersync hq schema publish schema-v2.yaml --group pilot --config hq.yaml
              dealersync hq resync DLR-0421 --table customers --config hq.yaml
            The administration commands work with the server stopped.
            """,
        subcommands: [HQServeCommand.self, HQAddDealerCommand.self, HQRevokeDealerCommand.self, HQAddReaderCommand.self, HQShareCommand.self, HQStatusCommand.self, HQQualityCommand.self, HQCustomersCommand.self, HQRebuildTablesCommand.self,
            HQGroupCommand.self, HQSchemaCommand.self, HQResyncCommand.self, HQAccessLogCommand.self, HQEraseCommand.self, HQErasuresCommand.self])
}
