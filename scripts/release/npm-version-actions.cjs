// How `nx release version` reads and writes the versions of this repository's
// npm packages. nx ships the logic only in its @nx/js plugin, which has no
// release matching nx 24 on the npm registry, so this small equivalent is wired
// in through release.version.versionActions in nx.json. CommonJS because nx
// loads it with require().
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { VersionActions } = require('nx/release');

const COLLECTIONS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

function readJson(tree, path) {
  return JSON.parse(tree.read(path, 'utf-8'));
}

function writeJson(tree, path, value) {
  tree.write(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The npm name of a workspace project (nx names projects after it, but say so explicitly). */
function packageName(tree, node) {
  return readJson(tree, join(node.data.root, 'package.json')).name;
}

class NpmVersionActions extends VersionActions {
  validManifestFilenames = ['package.json'];

  async readCurrentVersionFromSourceManifest(tree) {
    const manifestPath = join(this.projectGraphNode.data.root, 'package.json');
    return { currentVersion: readJson(tree, manifestPath).version, manifestPath };
  }

  async readCurrentVersionFromRegistry(tree, metadata) {
    const name = packageName(tree, this.projectGraphNode);
    const tag = metadata?.tag ?? 'latest';
    const registry = metadata?.registry;
    const args = ['view', `${name}@${tag}`, 'version', ...(registry ? ['--registry', registry] : [])];
    try {
      const version = execFileSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return { currentVersion: version || null, logText: `npm registry${registry ? ` ${registry}` : ''}, dist-tag "${tag}"` };
    } catch {
      // Not published yet (or unreachable): nx then asks for --first-release.
      return { currentVersion: null, logText: `npm registry: ${name}@${tag} not found` };
    }
  }

  async readCurrentVersionOfDependency(tree, projectGraph, dependencyProjectName) {
    const manifest = readJson(tree, join(this.projectGraphNode.data.root, 'package.json'));
    const name = packageName(tree, projectGraph.nodes[dependencyProjectName]);
    for (const collection of COLLECTIONS) {
      const spec = manifest[collection]?.[name];
      if (spec) return { currentVersion: spec, dependencyCollection: collection };
    }
    return { currentVersion: null, dependencyCollection: null };
  }

  async updateProjectVersion(tree, newVersion) {
    const logs = [];
    for (const { manifestPath } of this.manifestsToUpdate) {
      const manifest = readJson(tree, manifestPath);
      manifest.version = newVersion;
      writeJson(tree, manifestPath, manifest);
      logs.push(`✍️  New version ${newVersion} written to manifest: ${manifestPath}`);
    }
    return logs;
  }

  async updateProjectDependencies(tree, projectGraph, dependenciesToUpdate) {
    const updates = Object.entries(dependenciesToUpdate).map(([project, version]) => [packageName(tree, projectGraph.nodes[project]), version]);
    if (updates.length === 0) return [];
    const logs = [];
    for (const { manifestPath, preserveLocalDependencyProtocols } of this.manifestsToUpdate) {
      const manifest = readJson(tree, manifestPath);
      let changed = 0;
      for (const collection of COLLECTIONS) {
        for (const [name, version] of updates) {
          const spec = manifest[collection]?.[name];
          if (!spec || (preserveLocalDependencyProtocols && /^(workspace|file|link):/.test(spec))) continue;
          manifest[collection][name] = version;
          changed++;
        }
      }
      if (changed) {
        writeJson(tree, manifestPath, manifest);
        logs.push(`✍️  Updated ${changed} dependenc${changed === 1 ? 'y' : 'ies'} in manifest: ${manifestPath}`);
      }
    }
    return logs;
  }
}

/** After every package.json is written, bring the workspace entries of the lockfile in line. */
async function afterAllProjectsVersioned(cwd, { dryRun }) {
  if (dryRun) return { changedFiles: [], deletedFiles: [] };
  execFileSync('npm', ['install', '--package-lock-only', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd, stdio: 'inherit' });
  return { changedFiles: ['package-lock.json'], deletedFiles: [] };
}

module.exports = NpmVersionActions;
module.exports.default = NpmVersionActions;
module.exports.afterAllProjectsVersioned = afterAllProjectsVersioned;
