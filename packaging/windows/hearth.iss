; Inno Setup script for Hearth (Inno Setup 6).  Built by packaging/windows/build.ps1:
;   iscc /DAppVersion=0.1.0 /DSourceDir=build\windows\hearth /DOutputDir=build\windows hearth.iss
;
; Installs for the current user by default (no administrator needed), with an option to
; install for everyone.  Uninstalling removes the program; conversations, settings and API
; keys stay unless the user ticks "also delete my data" in the uninstaller.

#ifndef AppVersion
  #error Pass /DAppVersion=...
#endif

[Setup]
AppId={{6F1C2B7E-5D0A-4C1B-9A8E-3E2D7C4B9F10}
AppName=Hearth
AppVersion={#AppVersion}
AppPublisher=Hearth
AppPublisherURL=https://github.com/hearth-desktop/hearth
AppSupportURL=https://github.com/hearth-desktop/hearth/issues
DefaultDirName={autopf}\Hearth
DefaultGroupName=Hearth
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
LicenseFile=..\..\LICENSE
SetupIconFile={#SourceDir}\..\icons\hearth.ico
UninstallDisplayIcon={app}\Hearth.exe
OutputDir={#OutputDir}
OutputBaseFilename=Hearth-{#AppVersion}-Setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Hearth"; Filename: "{app}\Hearth.exe"
Name: "{autodesktop}\Hearth"; Filename: "{app}\Hearth.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\Hearth.exe"; Description: "{cm:LaunchProgram,Hearth}"; Flags: nowait postinstall skipifsilent

[Code]
{ Conversations live in %LOCALAPPDATA%\Hearth, settings in the same place, keys in the
  Windows Credential Manager.  Only hearth-cli erase-data knows all three, so the uninstaller
  asks it, before the program's files are removed. }
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  ResultCode: Integer;
begin
  if (CurUninstallStep = usUninstall) and not UninstallSilent then
    if MsgBox('Also delete your conversations, settings and API keys?' #13#10#13#10 +
              'Choose No to keep them for a later installation of Hearth.',
              mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
      Exec(ExpandConstant('{app}\hearth-cli.exe'), 'erase-data --yes', '', SW_HIDE,
           ewWaitUntilTerminated, ResultCode);
end;
