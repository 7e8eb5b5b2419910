using System.Text;
using Dapper;

namespace Hub.Store;

/// <summary>
/// The <c>VALUES</c> list of a multi-row statement and its parameters (<c>@r{row}c{column}</c>): one
/// round trip writes a whole batch. SQLite and PostgreSQL both take multi-row VALUES with ON CONFLICT.
/// </summary>
public static class SqlRows
{
    public static (string Values, DynamicParameters Parameters) Values<T>(IReadOnlyList<T> rows, Func<T, object?[]> columns)
    {
        var sql = new StringBuilder();
        var parameters = new DynamicParameters();
        for (var r = 0; r < rows.Count; r++)
        {
            var values = columns(rows[r]);
            sql.Append(r == 0 ? "(" : ", (");
            for (var c = 0; c < values.Length; c++)
            {
                var name = $"r{r}c{c}";
                sql.Append(c == 0 ? "@" : ", @").Append(name);
                parameters.Add(name, values[c]);
            }

            sql.Append(')');
        }

        return (sql.ToString(), parameters);
    }
}
