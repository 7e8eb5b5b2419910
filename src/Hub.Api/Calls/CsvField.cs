using System.Text;
using System.Text.RegularExpressions;

namespace Hub.Api.Calls;

/// <summary>
/// One CSV cell as RFC 4180 writes it, made safe for spreadsheets (OWASP's CSV injection rules): a text cell a
/// spreadsheet would run as a formula (it starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or carriage
/// return) gets a leading <c>'</c>, and a cell holding <c>,</c>, <c>;</c>, <c>"</c> or a line break is quoted:
/// spreadsheets in locales whose list separator is <c>;</c> split an unquoted cell there, which would shift the
/// columns and let the part after the <c>;</c> start a formula of its own. The one exception to the prefix is a
/// number in canonical E.164 form (<c>+</c> and up to 15 digits, nothing else): it cannot hold a formula (a
/// spreadsheet reads it as the number it is), and analysts search and join on it, so it stays as it is. Numeric
/// columns (<c>ring_seconds</c>, <c>billsec</c>, <c>talk_seconds</c>) are written by the caller as bare numbers.
/// </summary>
internal static partial class CsvField
{
    public static void Append(StringBuilder line, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !E164().IsMatch(value))
        {
            value = "'" + value;
        }

        if (value.AsSpan().IndexOfAny(",;\"\r\n") < 0)
        {
            line.Append(value);
            return;
        }

        line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }

    [GeneratedRegex(@"^\+[0-9]{1,15}$")]
    private static partial Regex E164();
}
