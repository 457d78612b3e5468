// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GovernorUpgradeable} from "@openzeppelin/contracts-upgradeable/governance/GovernorUpgradeable.sol";
import {GovernorSequentialProposalIdUpgradeable} from
    "@openzeppelin/contracts-upgradeable/governance/extensions/GovernorSequentialProposalIdUpgradeable.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {DaoShares} from "./DaoShares.sol";

/// @title DaoGovernance
/// @notice OpenZeppelin's Governor over a DAO's own shares, so every Governor tool (Tally,
///         Governor indexers) reads a dataset DAO as it reads any Governor: ERC-6372 clock in
///         seconds, its events, states and functions, and sequential proposal ids (1, 2, 3,
///         as OpenZeppelin's GovernorSequentialProposalId numbers them, short enough to type).
///         What Commons adds to the Governor:
///         - The DAO is its own non-transferable votes token ({token} is the DAO): a vote
///           weighs the voter's shares at the proposal's snapshot, as far as the voter still
///           holds them, and shares escrowed or moved into a fork leave every vote still being
///           counted ({VoteReduced}).
///         - A timelock inside the DAO: a proposal that passed is queued and runs no earlier
///           than its delay, from the DAO itself, which holds the treasury.
///         - Rules fixed in time: quorum, timelock and execution period are read at the
///           proposal's snapshot from a checkpointed history, so changing them never revives
///           a defeated proposal; a proposal not queued, or not executed, within its execution
///           period expires.
abstract contract DaoGovernance is GovernorUpgradeable, GovernorSequentialProposalIdUpgradeable, DaoShares {
    using Checkpoints for Checkpoints.Trace208;

    struct Params {
        uint32 votingDelay; // seconds from proposal to the snapshot; voting opens after it
        uint32 votingPeriod; // seconds of voting
        uint32 timelockDelay; // seconds between queueing and execution
        uint16 quorumBps; // for + abstain votes needed, of all shares at the snapshot
        uint16 forkThresholdBps; // escrowed shares needed to fork, of all shares
        uint32 forkPeriod; // seconds after a fork during which more members may join it
        uint32 executionPeriod; // seconds a passed proposal may wait to be queued, then executed
    }

    /// @dev One slot per vote: whether it was cast, its side, its (possibly reduced) weight,
    ///      and the member's previous vote still open (a list of the member's open votes).
    struct Vote {
        bool cast;
        uint8 support;
        uint208 weight;
        uint32 previousOpen;
    }

    struct Tally {
        uint256 againstVotes;
        uint256 forVotes;
        uint256 abstainVotes;
    }

    /// @notice The parameters in force now (proposals read theirs at their snapshot).
    Params public params;
    /// @dev quorumBps | timelockDelay << 16 | executionPeriod << 48, by timestamp.
    Checkpoints.Trace208 internal rulesHistory;
    mapping(uint256 => Tally) internal tallies;
    /// @notice Whether each vote was cast, its support and its (possibly reduced) weight.
    mapping(uint256 => mapping(address => Vote)) public voteOf;
    /// @dev The last proposal a member voted on that may still be in its voting window: the
    ///      head of the member's list of open votes, linked through {Vote.previousOpen}.
    mapping(address => uint32) internal lastOpenVote;
    /// @dev The proposal being executed, for events of the actions it runs.
    uint256 internal _currentProposal;

    event ParamsSet(Params params);
    event VoteReduced(uint256 indexed proposalId, address indexed voter, uint256 oldWeight, uint256 newWeight);

    error InvalidParams(string field);
    error NoShares(address account);
    error AlreadyVoted(uint256 proposalId, address voter);
    error InvalidSupport(uint8 support);
    error TimelockNotPassed(uint256 proposalId, uint48 eta);
    error SignedVotesUnsupported();

    // ---------------------------------------------------------------- the Governor's settings

    /// @notice ERC-6372: the DAO counts time in seconds.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372: the clock's mode.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice Against, for and abstain; quorum counts for and abstain (as Governor Bravo).
    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure override returns (string memory) {
        return "support=bravo&quorum=for,abstain";
    }

    /// @notice Seconds from a proposal to its snapshot.
    function votingDelay() public view override returns (uint256) {
        return params.votingDelay;
    }

    /// @notice Seconds of voting.
    function votingPeriod() public view override returns (uint256) {
        return params.votingPeriod;
    }

    /// @notice Votes (for + abstain) needed at `timepoint`: the quorum in force then, of all shares then.
    function quorum(uint256 timepoint) public view override returns (uint256) {
        (uint16 quorumBps,,) = rulesAt(timepoint);
        return totalSharesAt(SafeCast.toUint48(timepoint)) * quorumBps / 10_000;
    }

    /// @notice The quorum, timelock delay and execution period in force at `timepoint`.
    function rulesAt(uint256 timepoint) public view returns (uint16 quorumBps, uint32 timelockDelay, uint32 executionPeriod) {
        uint256 packed = rulesHistory.upperLookupRecent(SafeCast.toUint48(timepoint));
        return (uint16(packed), uint32(packed >> 16), uint32(packed >> 48));
    }

    /// @notice Every passed proposal waits out the timelock before it runs.
    function proposalNeedsQueuing(uint256) public pure override returns (bool) {
        return true;
    }

    // ---------------------------------------------------------------- the votes token (the DAO itself)

    /// @notice The votes token of this Governor: the DAO's own non-transferable shares.
    function token() public view returns (address) {
        return address(this);
    }

    /// @notice IVotes: the votes of `account` now (its shares; shares cannot be delegated).
    function getVotes(address account) external view returns (uint256) {
        return sharesOf(account);
    }

    /// @notice IVotes: the votes (shares) of `account` at the end of second `timepoint`.
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256) {
        return sharesAt(account, SafeCast.toUint48(timepoint));
    }

    /// @notice IVotes: all votes (shares outside the fork escrow) at the end of second `timepoint`.
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256) {
        return totalSharesAt(SafeCast.toUint48(timepoint));
    }

    /// @notice IVotes: every member votes its own shares.
    function delegates(address account) external pure returns (address) {
        return account;
    }

    // ---------------------------------------------------------------- proposals and votes

    /// @notice Votes by signature are not taken: members vote from their own accounts. (This
    ///         keeps the DAO under the contract size limit; the Governor's other ways to vote
    ///         remain.)
    function castVoteBySig(uint256, uint8, address, bytes memory) public pure override returns (uint256) {
        revert SignedVotesUnsupported();
    }

    /// @notice Votes by signature are not taken (see {castVoteBySig}).
    function castVoteWithReasonAndParamsBySig(uint256, uint8, address, string calldata, bytes memory, bytes memory)
        public
        pure
        override
        returns (uint256)
    {
        revert SignedVotesUnsupported();
    }

    /// @notice Proposes calls for the DAO to make. The proposer must hold shares now.
    /// @dev Emits Governor's {ProposalCreated}; ids count up from 1 in each DAO.
    function propose(address[] memory targets, uint256[] memory values, bytes[] memory calldatas, string memory description)
        public
        override
        returns (uint256)
    {
        if (sharesOf(_msgSender()) == 0) revert NoShares(_msgSender());
        return super.propose(targets, values, calldatas, description);
    }

    /// @notice The id of the proposal with these calls and description.
    function getProposalId(address[] memory targets, uint256[] memory values, bytes[] memory calldatas, bytes32 descriptionHash)
        public
        view
        override(GovernorUpgradeable, GovernorSequentialProposalIdUpgradeable)
        returns (uint256)
    {
        return super.getProposalId(targets, values, calldatas, descriptionHash);
    }

    function _propose(address[] memory targets, uint256[] memory values, bytes[] memory calldatas, string memory description, address proposer)
        internal
        override(GovernorUpgradeable, GovernorSequentialProposalIdUpgradeable)
        returns (uint256)
    {
        return super._propose(targets, values, calldatas, description, proposer);
    }

    /// @notice Governor's states, with Expired for a passed proposal not queued within the
    ///         execution period after its vote, or not executed within it after its timelock.
    function state(uint256 proposalId) public view override returns (ProposalState) {
        ProposalState s = super.state(proposalId);
        if (s != ProposalState.Succeeded && s != ProposalState.Queued) return s;
        (,, uint32 executionPeriod) = rulesAt(proposalSnapshot(proposalId));
        uint256 from = s == ProposalState.Succeeded ? proposalDeadline(proposalId) : proposalEta(proposalId);
        return block.timestamp > from + executionPeriod ? ProposalState.Expired : s;
    }

    /// @notice Whether `account` voted on `proposalId`.
    function hasVoted(uint256 proposalId, address account) public view override returns (bool) {
        return voteOf[proposalId][account].cast;
    }

    /// @notice The votes counted so far, as GovernorCountingSimple gives them.
    function proposalVotes(uint256 proposalId) external view returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes) {
        Tally storage t = tallies[proposalId];
        return (t.againstVotes, t.forVotes, t.abstainVotes);
    }

    function _getVotes(address account, uint256 timepoint, bytes memory) internal view override returns (uint256) {
        uint256 atSnapshot = sharesAt(account, SafeCast.toUint48(timepoint));
        uint256 held = sharesOf(account);
        return atSnapshot < held ? atSnapshot : held;
    }

    function _countVote(uint256 proposalId, address account, uint8 support, uint256 weight, bytes memory) internal override returns (uint256) {
        if (voteOf[proposalId][account].cast) revert AlreadyVoted(proposalId, account);
        if (support > 2) revert InvalidSupport(support);
        if (weight == 0) revert NoShares(account);
        _tally(tallies[proposalId], support, weight, true);
        // Votes whose window closed are dropped from the front of the list as it grows, so
        // the list a member's fork escrow walks stays about as long as its open votes.
        uint32 previous = lastOpenVote[account];
        while (previous != 0 && block.timestamp > proposalDeadline(previous)) previous = voteOf[previous][account].previousOpen;
        // weight <= a uint208 share count, so it fits; ids count up from 1, one per proposal.
        voteOf[proposalId][account] = Vote(true, support, uint208(weight), previous);
        lastOpenVote[account] = SafeCast.toUint32(proposalId);
        return weight;
    }

    function _quorumReached(uint256 proposalId) internal view override returns (bool) {
        Tally storage t = tallies[proposalId];
        return quorum(proposalSnapshot(proposalId)) <= t.forVotes + t.abstainVotes;
    }

    function _voteSucceeded(uint256 proposalId) internal view override returns (bool) {
        Tally storage t = tallies[proposalId];
        return t.forVotes > t.againstVotes;
    }

    function _queueOperations(uint256 proposalId, address[] memory, uint256[] memory, bytes[] memory, bytes32) internal view override returns (uint48) {
        (, uint32 timelockDelay,) = rulesAt(proposalSnapshot(proposalId));
        return uint48(block.timestamp) + timelockDelay;
    }

    function _executeOperations(uint256 proposalId, address[] memory targets, uint256[] memory values, bytes[] memory calldatas, bytes32 descriptionHash)
        internal
        override
    {
        uint256 eta = proposalEta(proposalId);
        if (block.timestamp < eta) revert TimelockNotPassed(proposalId, uint48(eta));
        _currentProposal = proposalId;
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
        _currentProposal = 0;
    }

    function _tally(Tally storage t, uint8 support, uint256 weight, bool add) internal {
        if (support == 0) t.againstVotes = add ? t.againstVotes + weight : t.againstVotes - weight;
        else if (support == 1) t.forVotes = add ? t.forVotes + weight : t.forVotes - weight;
        else t.abstainVotes = add ? t.abstainVotes + weight : t.abstainVotes - weight;
    }

    /// @dev After `member`'s shares went down, cuts each of its votes on proposals still
    ///      in their voting window to what it holds now, and forgets votes whose window
    ///      closed (their outcome is final). The list holds only the member's own votes.
    function _reduceVotes(address member) internal {
        uint256 left = sharesOf(member);
        Vote storage previous = voteOf[0][member]; // only written once a kept vote is found
        bool atHead = true;
        for (uint32 proposalId = lastOpenVote[member]; proposalId != 0;) {
            Vote storage v = voteOf[proposalId][member];
            uint32 next = v.previousOpen;
            if (block.timestamp > proposalDeadline(proposalId)) {
                // Closed: its outcome is final; unlink it.
                if (atHead) lastOpenVote[member] = next;
                else previous.previousOpen = next;
            } else {
                if (v.weight > left) {
                    emit VoteReduced(proposalId, member, v.weight, left);
                    _tally(tallies[proposalId], v.support, v.weight - left, false);
                    // left < v.weight, which fits in uint208.
                    v.weight = uint208(left);
                }
                previous = v;
                atHead = false;
            }
            proposalId = next;
        }
    }

    function _setParams(Params memory p) internal {
        if (p.votingPeriod == 0) revert InvalidParams("votingPeriod");
        if (p.quorumBps > 10_000) revert InvalidParams("quorumBps");
        if (p.forkThresholdBps == 0 || p.forkThresholdBps > 10_000) revert InvalidParams("forkThresholdBps");
        if (p.executionPeriod == 0) revert InvalidParams("executionPeriod");
        params = p;
        rulesHistory.push(clock(), uint208(p.quorumBps) | uint208(p.timelockDelay) << 16 | uint208(p.executionPeriod) << 48);
        emit ParamsSet(p);
    }
}
