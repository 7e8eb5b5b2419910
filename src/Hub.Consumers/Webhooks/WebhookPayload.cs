using System.Text;
using System.Text.Json;
using Hub.Contracts;

namespace Hub.Consumers.Webhooks;

/// <summary>
/// The body of a webhook: <c>{id, type, tenant_id, occurred_at, data: {agent_id, call_id, seq, payload}}</c>,
/// the same shape as an event of <c>GET /api/v1/events/stream</c>. <c>id</c> is the event's own id, stable
/// across attempts and subscriptions.
/// </summary>
public static class WebhookPayload
{
    public static string Serialize(IWebphoneEvent message)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("id", message.EventId);
            writer.WriteString("type", message.Type);
            writer.WriteString("tenant_id", message.TenantId);
            writer.WriteString("occurred_at", message.OccurredAt.ToUniversalTime());
            writer.WriteStartObject("data");
            writer.WriteString("agent_id", message.AgentId);
            writer.WriteString("call_id", message.CallId);
            writer.WriteNumber("seq", message.Seq);
            writer.WritePropertyName("payload");
            message.Payload.WriteTo(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
