# Build Hearth for Windows: the frozen folder, its self-test, and an Inno Setup installer.
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# The same steps as packaging/linux/build.sh, with Windows' tools:
#   1. llama.cpp, portable: every x64 CPU variant chosen at run time (packaging/llama-wheel.sh cpu,
#      through Git Bash; MSVC builds the variants).  HEARTH_LLAMA_VARIANT=cuda or vulkan for GPU builds.
#   2. a build environment with Hearth (not editable), PyInstaller and Pillow;
#   3. the default model, fetched and checked by Hearth's own code, to carry in the installer;
#   4. icons from resources/hearth.svg; PyInstaller from packaging/hearth.spec
#      (Hearth.exe for the window, hearth-cli.exe for the command line);
#   5. the frozen self-test, offscreen;
#   6. code signing with signtool when WINDOWS_CERTIFICATE (base64 .pfx) and
#      WINDOWS_CERTIFICATE_PASSWORD are set;
#   7. the installer (iscc), signed the same way; then installed silently, self-tested from the
#      installed folder, uninstalled, and the user's data checked to be still there.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$root = (Get-Location).Path
$out = Join-Path $root "build\windows"
$python = if ($env:PYTHON) { $env:PYTHON } else { "python" }
$variant = if ($env:HEARTH_LLAMA_VARIANT) { $env:HEARTH_LLAMA_VARIANT } else { "cpu" }
$version = & $python -c "import tomllib; print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])"

function Check($what) { if ($LASTEXITCODE -ne 0) { throw "$what failed (exit $LASTEXITCODE)" } }

Write-Host "== llama.cpp ($variant)"
$env:PYTHON = $python
$wheel = & bash packaging/llama-wheel.sh $variant; Check "building llama.cpp"

Write-Host "== build environment"
$venv = Join-Path $root "build\venv"
if (-not (Test-Path "$venv\Scripts\python.exe")) { & $python -m venv $venv; Check "venv" }
$vpy = "$venv\Scripts\python.exe"
& $vpy -m pip install --quiet --force-reinstall --no-deps $wheel; Check "pip"
& $vpy -m pip install --quiet $wheel "pyinstaller>=6.10,<7" "pillow>=10"; Check "pip"
& $vpy -m pip install --quiet --force-reinstall --no-deps .; Check "pip"
& $vpy -m pip install --quiet .; Check "pip"

Write-Host "== default model"
Push-Location $env:TEMP
$model = & $vpy (Join-Path $root "packaging\default_model.py"); Check "fetching the default model"
Pop-Location

Write-Host "== freezing"
if (Test-Path $out) { Remove-Item -Recurse -Force $out }
& $vpy packaging\icons.py "$out\icons"; Check "icons"
$env:HEARTH_BUNDLED_MODEL = $model
$env:HEARTH_ICON = "$out\icons\hearth.ico"
$env:HEARTH_VERSION = $version
& "$venv\Scripts\pyinstaller.exe" --noconfirm --log-level WARN --distpath $out --workpath "$root\build\pyinstaller" packaging\hearth.spec
Check "PyInstaller"

function SelfTest($folder) {
  $env:QT_QPA_PLATFORM = "offscreen"
  $report = & "$folder\hearth-cli.exe" --self-test | Select-Object -Last 1
  $env:QT_QPA_PLATFORM = $null
  Write-Host $report
  $parsed = $report | ConvertFrom-Json
  if (-not $parsed.ok -or $parsed.model_came_from -ne "the installation") { throw "self-test of $folder failed" }
  return $report
}
Write-Host "== self-test (folder)"
SelfTest "$out\hearth" | Out-File -Encoding utf8 "$out\self-test-folder.json"

function Sign($file) {
  if (-not $env:WINDOWS_CERTIFICATE) { return }
  $pfx = Join-Path $env:RUNNER_TEMP "hearth.pfx"
  [IO.File]::WriteAllBytes($pfx, [Convert]::FromBase64String($env:WINDOWS_CERTIFICATE))
  & signtool sign /f $pfx /p $env:WINDOWS_CERTIFICATE_PASSWORD /fd sha256 /tr http://timestamp.digicert.com /td sha256 $file
  Check "signing $file"
  Remove-Item $pfx
}
Sign "$out\hearth\Hearth.exe"
Sign "$out\hearth\hearth-cli.exe"

Write-Host "== installer"
$iscc = (Get-Command iscc -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
if (-not (Test-Path $iscc)) { choco install innosetup --no-progress -y; Check "installing Inno Setup" }
& $iscc /Q "/DAppVersion=$version" "/DSourceDir=$out\hearth" "/DOutputDir=$out" packaging\windows\hearth.iss
Check "Inno Setup"
$setup = "$out\Hearth-$version-Setup.exe"
Sign $setup

Write-Host "== installer round trip"
$target = Join-Path $env:TEMP "hearth-install-test"
$data = Join-Path $env:LOCALAPPDATA "Hearth"
New-Item -ItemType Directory -Force $data | Out-Null
Set-Content (Join-Path $data "kept-by-uninstall.txt") "a conversation the user wants to keep"
Start-Process -Wait -FilePath $setup -ArgumentList "/VERYSILENT", "/SUPPRESSMSGBOXES", "/CURRENTUSER", "/DIR=`"$target`""
SelfTest $target | Out-File -Encoding utf8 "$out\self-test-installed.json"
Start-Process -Wait -FilePath "$target\unins000.exe" -ArgumentList "/VERYSILENT", "/SUPPRESSMSGBOXES"
if (Test-Path "$target\Hearth.exe") { throw "the uninstaller left the program behind" }
if (-not (Test-Path (Join-Path $data "kept-by-uninstall.txt"))) { throw "the uninstaller deleted the user's data" }
Remove-Item (Join-Path $data "kept-by-uninstall.txt")

Get-ChildItem $out -File | Select-Object Name, @{n="MB"; e={[math]::Round($_.Length / 1MB, 1)}} | Format-Table
