using Dapper;

namespace Hub.Store.Phones;

public sealed partial class PhoneNumberUpgrade
{
    private async Task<int> ReNormaliseCallsAsync(Dictionary<string, string> countries, CancellationToken cancellationToken)
    {
        var changed = 0;
        var after = new { TenantId = "", CallId = "" };
        while (true)
        {
            var batch = await ReadBatchAsync<CallRow>(
                """
                SELECT tenant_id, call_id, direction, from_number, to_number, remote_number, erased_at FROM calls
                WHERE (tenant_id, call_id) > (@TenantId, @CallId)
                ORDER BY tenant_id, call_id
                LIMIT @BatchSize
                """, new { after.TenantId, after.CallId, BatchSize }, cancellationToken);
            if (batch.Count == 0)
            {
                return changed;
            }

            var updates = new List<object>();
            foreach (var call in batch.Where(call => call.ErasedAt is null && call.RemoteNumber is not null and not "erased"))
            {
                var written = call.Written;
                var next = Phone.Normalise(written, await CountryOfAsync(countries, call.TenantId, cancellationToken))?.E164 ?? written;
                if (next != call.RemoteNumber)
                {
                    updates.Add(new { call.TenantId, call.CallId, call.RemoteNumber, next });
                }
            }

            // Only where the number is still the one read: a call rebuilt meanwhile was normalised by the new code.
            if (updates.Count > 0)
            {
                changed += await WriteBatchAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
                    """
                    UPDATE calls SET remote_number = @next
                    WHERE tenant_id = @TenantId AND call_id = @CallId AND remote_number = @RemoteNumber AND erased_at IS NULL
                    """, updates, transaction, cancellationToken: cancellationToken)), cancellationToken);
            }

            if (batch.Count < BatchSize)
            {
                return changed;
            }

            after = new { batch[^1].TenantId, batch[^1].CallId };
        }
    }

    private sealed record CallRow
    {
        public string TenantId { get; init; } = "";
        public string CallId { get; init; } = "";
        public string? Direction { get; init; }
        public string? FromNumber { get; init; }
        public string? ToNumber { get; init; }
        public string? RemoteNumber { get; init; }
        public long? ErasedAt { get; init; }

        /// <summary>
        /// The number as the start event gave it (CallRecordBuilder keeps it in from_number of an inbound call and
        /// to_number of an outbound one); a call without a start event has only its stored number to go on.
        /// </summary>
        public string Written => Direction switch
        {
            "inbound" => FromNumber,
            "outbound" => ToNumber,
            _ => null,
        } ?? RemoteNumber!;
    }
}
