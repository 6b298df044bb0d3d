"""Normalisation shared by the readers: NFKC, the spelling variants and typos of the key words
folded onto one form (``VARIANTS``), sentences and clauses."""
from __future__ import annotations

import logging
import re
import unicodedata


logger = logging.getLogger(__name__)



#: Longest text that is read at all; people do not type more than this.
#: the writer, in any script and dialect (「私」「わたし」「俺」「自分」, 「わし」「おら」, Kansai 「うちが」 ...)
ME = r"(?:私|わたし|あたし|あたい|自分|じぶん|俺|おれ|僕|ぼく|わし|おら(?=が|は|も)|おいら|うち(?=が))"
#: the spoken Kanto negation of いる (「いねー」「いねぇよ」), not 「いいねー」
SPOKEN_NO = r"(?<![ぁ-ん])いね[ーぇえ〜~]+"
MAX_CHARS = 3000
#: At most this many characters around date cues are handed to ja-timex.
MAX_DATE_CHARS = 240
#: Arrears above this are not believed (e.g. 「住んで10年」 slipping through).
MAX_ARREARS_MONTHS = 60


# ---------------------------------------------------------------------------
# Normalisation tables
# ---------------------------------------------------------------------------

#: (pattern, canonical) applied in order to the lower-cased, NFKC text.
VARIANTS: list[tuple[str, str]] = [
    # hiragana spellings
    (r"たいのう", "滞納"),
    (r"えんたい", "延滞"),
    (r"とくそく", "督促"),
    (r"さいこくしょ", "催告書"),
    (r"きょうばい|けいばい|競賣|競買", "競売"),
    (r"だいいべんさい", "代位弁済"),
    (r"げんきょうちょうさ", "現況調査"),
    (r"しっこうかん", "執行官"),
    (r"きかんにゅうさつ", "期間入札"),
    (r"にゅうさつ", "入札"),
    (r"かいさつ", "開札"),
    (r"りこん", "離婚"),
    (r"ちょうてい", "調停"),
    (r"べっきょ", "別居"),
    (r"ぜいむしょ", "税務署"),
    (r"しやくしょ", "市役所"),
    (r"やくしょ", "役所"),
    (r"こていしさんぜい", "固定資産税"),
    (r"れんたいほしょうにん", "連帯保証人"),
    (r"ほしょうにん", "保証人"),
    (r"ほしょうがいしゃ", "保証会社"),
    (r"めいぎ", "名義"),
    (r"きょうゆう", "共有"),
    (r"ひっこし|引っ越し|引越し|引っ越|ひっこ", "引越"),
    (r"にんいばいきゃく|任意売買|任売", "任意売却"),
    (r"ざんさい", "残債"),
    (r"しんようじょうほう", "信用情報"),
    (r"ぶらっくりすと|ブラックリス(?!ト)", "ブラックリスト"),
    (r"ぶらっく", "ブラック"),
    (r"りーすばっく|リースバッグ|リースパック", "リースバック"),
    (r"さしおさえ|差し押さえ|差押さえ|差し押え|差押え", "差押"),
    (r"きげんのりえき", "期限の利益"),
    (r"そうしつ", "喪失"),
    (r"(?<=[0-9〇一二三四五六七八九十])(?:かげつ|カゲツ)", "ヶ月"),
    (r"いっかつ", "一括"),
    (r"(?<=一括)(で|して)?かえ(?=せ|して|す|さ)", r"\1返"),  # 「一括でかえせって」: repay, after 一括
    (r"とどこお", "滞"),
    (r"だんな|ダンナ", "旦那"),
    (r"元の(妻|夫|嫁|旦那|主人|奥さん|配偶者)", r"元\1"),
    (r"今年に入って(?:から)?|年明け(?:から|以降)", "今年の1月から"),
    # months counted in hiragana (「ふたつき分」「みつきほど」) and seasons as the month they start
    # from (「去年の夏から」 ≈ July): arrears since a season are counted like 「去年の7月から」
    (r"ひと(?:つき|月)", "1ヶ月"), (r"ふた(?:つき|月)", "2ヶ月"), (r"みつき", "3ヶ月"), (r"よつき", "4ヶ月"),
    (r"(去年|昨年|今年)の?(?:春|はる)(?=から|ごろから|頃から|くらいから|ぐらいから)", r"\g<1>の4月"),
    (r"(去年|昨年|今年)の?(?:夏|なつ)(?=から|ごろから|頃から|くらいから|ぐらいから)", r"\g<1>の7月"),
    (r"(去年|昨年|今年)の?(?:秋|あき)(?=から|ごろから|頃から|くらいから|ぐらいから)", r"\g<1>の10月"),
    (r"もとづま", "元妻"),
    (r"もとおっと", "元夫"),
    (r"たんとうしゃ", "担当者"),
    (r"でんわ", "電話"),
    # Kansai / casual negation onto the standard form (「おらん」「してへん」「あらへん」)
    (r"(?:おら|居ら)(?:ん|へん|ひん)(?![だでの])", "いない"),
    (r"(?:して|し)(?:へん|ーへん|ひん)|せ(?:え|ー)?へん", "していない"),
    (r"あらへん|ありまへん", "ない"),
    (SPOKEN_NO, "いない"),
    # the key verbs and nouns written in hiragana (LINE, phones, elderly writers): onto the kanji
    # the tables read (「はらえてない」「おくれてる」「とまったまま」「へんさい」「しはらい」)
    (r"はら(?=[わえっいう])", "払"),
    (r"しはら(?=[わえっいう])", "支払"),
    (r"おくれ", "遅れ"),
    (r"(?<![ぁ-ん])とま(?=[っりるら])", "止ま"),
    (r"かえせ(?=て|な|ず|ま)", "返せ"),
    (r"へんさい", "返済"),
    (r"ひきおとし|ひき落とし|引きおとし", "引き落とし"),
    (r"ろーん", "ローン"),
    (r"しゃっきん", "借金"),
    (r"ぜいきん", "税金"),
    (r"そうぞく", "相続"),
    (r"きょうどう", "共同"),
    (r"ほったらかし|放ったらかし|ほっとい|放っとい", "放置し"),
    # dialect and spoken negations onto the standard form: 「払えとらん」「払っとらん」(western),
    # 「払えてへん」(Kansai), 「払えてねえ」「保証人じゃねえ」(eastern), 「払えんかった」
    (r"(?<=[っえけしせてねべめれげ])(?:と|てお)ら(?:ん|へん|ない)", "ていない"),
    (r"(?<=[っえけせねべめれげ])てへん", "ていない"),
    (r"(?<=て)ね[えぇー]+", "ない"),
    (r"(?<=じゃ)ね[えぇー]+", "ない"),
    (r"(払え|返せ|支払え|でき|出来)んかった", r"\1なかった"),
    (r"(払え|返せ|支払え|でき|出来)ん(?=です|のです|の|よ|わ|ね|し|で|[。、!?…\n]|$)", r"\1ない"),
    # hedges and pauses carry no fact: 「名義はたしか妻だけ」「保証人は…いなかった」「保証人なんて、いなかった」
    (r"(?:たしか|確か)(?![めにさ])|たぶん|多分|おそらく|恐らく", ""),
    (r"…+|‥+|・{2,}|\.{2,}", "、"),
    (r"(保証人|名義|名義人|滞納|延滞|離婚|共有|差押|督促状?|通知)(は|も|なんて|なんか|って|には)[、,]", r"\1\2"),
    # 「家の名前は夫」「主人の名前だけ」: the name on the title is the 名義
    (r"(家|登記|土地|建物)の名前", r"\1の名義"),
    (r"(夫|妻|主人|旦那|嫁|父|母|私|自分|俺|僕)の名前(?=だけ|のみ|ひとり|一人|です|で|に?なって|のまま)", r"\1の名義"),
    # typos seen in real messages
    (r"督促上|督足状|特促状|得促状|徳促状", "督促状"),
    (r"最告書|再告書|催告状", "催告書"),
    (r"共同名義", "共有名義"),
    (r"連帯(補償|保障|保正|保症)人", "連帯保証人"),
    (r"(補償|保障)人", "保証人"),
    (r"代位(弁財|弁剤|返済|弁才|べんさい)", "代位弁済"),
    (r"現状調査|現況調沙|原況調査", "現況調査"),
    (r"執行(管|感)", "執行官"),
    (r"期限の利益(を|の)?損失", "期限の利益喪失"),
    (r"期限利益", "期限の利益"),
    (r"売却基準価格", "売却基準価額"),
    (r"(帯|滞|退)(能|脳)|帯納", "滞納"),
    (r"繰り上げ償還|繰上げ償還", "繰上償還"),
]

#: English words mixed into Japanese (「3 monthsくらい」「Flat35です」「stayしたい」「my nameだけ」):
#: the domain's words onto their Japanese form, before anything else reads the text. Letters
#: around a word (not \b: a kana next to it counts as a word character) keep it from matching
#: inside a longer word.
ENGLISH_WORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"(?<![a-z]){p}(?![a-z])", re.I), r) for p, r in (
        (r"(\d{1,2})\s*months?", r"\1ヶ月"),
        (r"(\d{1,2})\s*years?", r"\1年"),
        (r"half\s*(?:a\s*)?year", "半年"),
        (r"flat\s*(?=35)", "フラット"),
        (r"jhf", "住宅金融支援機構"),
        (r"banks?", "銀行"),
        (r"i\s*(?:want|would\s*like)\s*to\s*stay", "住み続けたい"),
        (r"stay", "住み続け"),
        (r"single\s*owner|single|sole\s*owner|only\s*me", "単独"),
        (r"joint(?:ly)?\s*owned|co-?owned|co-?owners?|shared|joint", "共有"),
        (r"no\s*guarantors?", "保証人はいない"),
        (r"not\s*divorced|no\s*divorce", "離婚はしていない"),
        (r"move\s*out|move", "引っ越"),
        (r"sell", "売却"),
        (r"guarantors?", "保証人"),
        (r"divorced?", "離婚"),
        (r"my\s*name", "私の名義"),
        (r"letters?", "手紙"),
    )
]


#: a run of printable ASCII without spaces: kept as typed when it holds an e-mail or web
#: address (「bank.taro@example.com」); runs never overlap, so finding them is linear
_ASCII_RUN = re.compile(r"[!-~]+")


def english_words(text: str) -> str:
    """``text`` with the English domain words (``ENGLISH_WORDS``) in Japanese, addresses untouched."""
    if not re.search(r"[a-zA-Z]{3}", text):
        return text
    out, last = [], 0
    addresses = [m for m in _ASCII_RUN.finditer(text) if "@" in m.group() or "://" in m.group()] \
        if "@" in text or "://" in text else []
    for m in [*addresses, None]:
        part = text[last: m.start() if m else len(text)]
        for rx, japanese in ENGLISH_WORDS:
            part = rx.sub(japanese, part)
        out.append(part + (m.group() if m else ""))
        last = m.end() if m else last
    return "".join(out)


#: 「保証人？いないですね」「滞納？まだしてないよ」: the subject echoed as a question, then the answer.
#: The question said back before the answer: 「離婚?してないです」「離婚でございますか。そのようなことはございません」
ECHO_QUESTION = re.compile(
    r"^(保証人|連帯保証人|滞納|延滞|離婚|名義|共有)(?:(?:ですか|でございますか|って)?\?+|(?:ですか|でございますか)。)"
    r"(?=[^\n]{1,40}$)"
)
#: The subject said last, as an afterthought: 「保証人にはなってないよ、俺は」 → 「俺は保証人には…」.
AFTERTHOUGHT_SUBJECT = re.compile(rf"([^。!?\n、,]{{2,40}})[、,]({ME}(?:は|も))(?=[。!?\n]|$)")
#: Month counters written every way people write them, after a number.
MONTH_COUNTER = re.compile(r"(?<=[0-9〇一二三四五六七八九十半])(?:[ヶケカかヵ箇個]|ケ)月")

CLAUSE_BREAK = re.compile(r"[。!?\n、,「」『』\"]|けど|けれど|ので|のに|しかし|でも、")
SENTENCE = re.compile(r"[^。!?\n]+[。!?\n]*")
#: For arrears a line break is not the end of a thought (「３ヶ月\n滞納してて」).
SENTENCE_KEEP_LINES = re.compile(r"[^。!?]+[。!?]*")
#: Work caps that keep adversarial input (thousands of hits) linear.
MAX_HITS = 60
MAX_SENTENCES = 80


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

_VARIANTS_COMPILED = [(re.compile(p), r) for p, r in VARIANTS]
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\ufe00-\ufe0f]")


def _nfkc(text: str) -> str:
    """NFKC, capped, with line breaks unified and invisible characters removed."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])[:MAX_CHARS]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", text)


def _normalize(plain: str) -> str:
    """The keyword form: lower case, no spaces, variants folded, month counters unified."""
    text = re.sub(r"[ \t\f\v]+", "", english_words(plain)).lower()
    for pattern, canonical in _VARIANTS_COMPILED:
        text = pattern.sub(canonical, text)
    text = ECHO_QUESTION.sub(r"\1は", text)
    text = AFTERTHOUGHT_SUBJECT.sub(r"\2\1", text)
    return MONTH_COUNTER.sub("ヶ月", text)


_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _number(token: str | None) -> float | None:
    """「3」「3.5」「三」「十二」「二十」 → number."""
    if not token:
        return None
    if token[0].isdigit():
        try:
            return float(token)
        except ValueError:
            return None
    total, current = 0, 0
    for ch in token:
        if ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch in _KANJI_DIGITS:
            current = current * 10 + _KANJI_DIGITS[ch]
        else:
            return None
    return float(total + current)


def _sentences(text: str, pattern: re.Pattern[str] = SENTENCE) -> list[tuple[int, str]]:
    """(start offset, sentence with its terminator), at most ``MAX_SENTENCES``."""
    out = []
    for m in pattern.finditer(text):
        out.append((m.start(), m.group()))
        if len(out) >= MAX_SENTENCES:
            break
    return out




def _clause_after(text: str, start: int, stop: int) -> str:
    window = text[start: min(stop, start + 25)]
    cut = CLAUSE_BREAK.search(window)
    return window[: cut.start()] if cut else window


def _clause_before(text: str, end: int, floor: int) -> str:
    window = text[max(floor, end - 15): end]
    cut = max((window.rfind(c) for c in "。!?\n"), default=-1)
    return window[cut + 1:]
