"""Microsoft Graph access: one client factory over msgraph-sdk / msgraph-core middleware,
azure-identity credentials, and a throttling budget shared by every worker process."""

from rewind_common.graph.client import GraphClient, GraphResponse, open_graph_client

__all__ = ["GraphClient", "GraphResponse", "open_graph_client"]
