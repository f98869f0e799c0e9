-- Neovim's built-in LSP client against `aisigma lsp`, headless: open a rule, wait for the
-- diagnostics, ask for completion, hover, definition and code actions, and write what the
-- client received to $OUT as JSON. Works with Neovim 0.7 (Debian 12) and later.
local bin, root, out = os.getenv("AISIGMA"), os.getenv("ROOT"), os.getenv("OUT")
local result = { errors = {} }
local function fail(msg)
  table.insert(result.errors, msg)
end

vim.cmd("edit " .. root .. "/rule.yml")
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({ name = "aisigma", cmd = { bin, "lsp" }, root_dir = root })
if not id then
  fail("the client did not start")
else
  vim.lsp.buf_attach_client(buf, id)
end

-- Diagnostics, as Neovim shows them.
vim.wait(20000, function()
  return #vim.diagnostic.get(buf) > 0
end, 50)
result.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local lsp = (d.user_data or {}).lsp or {}
  table.insert(result.diagnostics, {
    code = d.code or lsp.code,
    lnum = d.lnum,
    col = d.col,
    end_col = d.end_col,
    severity = d.severity,
    message = d.message,
  })
end

local function request(method, params)
  local responses = vim.lsp.buf_request_sync(buf, method, params, 10000)
  if not responses then
    fail(method .. ": no response")
    return nil
  end
  for _, r in pairs(responses) do
    if r.error then
      fail(method .. ": " .. vim.inspect(r.error))
    end
    return r.result
  end
end

local uri = vim.uri_from_bufnr(buf)
local function at(line, character)
  return { textDocument = { uri = uri }, position = { line = line, character = character } }
end

-- Completion of a field being typed on line 11 (0-based 10): `        gen_ai.usage.inp`.
vim.api.nvim_buf_set_lines(buf, 10, 10, false, { "        gen_ai.usage.inp" })
vim.wait(300)
local items = request("textDocument/completion", at(10, 24)) or {}
items = items.items or items
result.completion = {}
for _, it in ipairs(items) do
  table.insert(result.completion, { label = it.label, detail = it.detail })
end
vim.api.nvim_buf_set_lines(buf, 10, 11, false, {})
vim.wait(300)

-- Hover on the ATLAS tag (line 6).
local h = request("textDocument/hover", at(5, 12))
result.hover_tag = h and h.contents and h.contents.value or vim.NIL

-- Definition from the condition (line 11) to the selection (line 9).
local def = request("textDocument/definition", at(10, 17))
if def and def[1] then
  def = def[1]
end
result.definition = def and def.range and def.range.start or vim.NIL

-- The quick fix for the misspelt field, applied as Neovim applies workspace edits.
local actions = request("textDocument/codeAction", {
  textDocument = { uri = uri },
  range = { start = { line = 9, character = 8 }, ["end"] = { line = 9, character = 21 } },
  context = { diagnostics = {} },
}) or {}
result.actions = {}
for _, a in ipairs(actions) do
  table.insert(result.actions, a.title)
end
if actions[1] and actions[1].edit then
  vim.lsp.util.apply_workspace_edit(actions[1].edit, "utf-16")
end
result.fixed_line = vim.api.nvim_buf_get_lines(buf, 9, 10, false)[1]
-- After the fix, the diagnostics clear.
vim.wait(20000, function()
  return #vim.diagnostic.get(buf) == 0
end, 50)
result.diagnostics_after_fix = #vim.diagnostic.get(buf)
-- Hover on the corrected field (line 10).
h = request("textDocument/hover", at(9, 12))
result.hover_field = h and h.contents and h.contents.value or vim.NIL

local f = io.open(out, "w")
f:write(vim.fn.json_encode(result))
f:close()
vim.lsp.stop_client(id)
vim.wait(2000, function()
  return vim.lsp.get_client_by_id(id) == nil
end, 50)
vim.cmd("qa!")
